/**
 * Judges the start of a bridge's answer before anything reaches the consumer: is the first
 * meaningful SSE event (or a non-streamed 200 body) content, or a failure in disguise (an error
 * event, a bare stop, `[DONE]` with nothing before it, an error body, an empty answer)? Runs only
 * until the answer is judged: JSON is parsed here, never on the per-chunk path after it.
 */
import type { UpstreamFailure } from './classify.js';
import { type Dialect, errorObject } from './dialects/index.js';

/** `skip`: a comment or keep-alive; `hold`: no content yet (a role chunk); `commit`: content flows. */
export type Judgement = 'skip' | 'hold' | 'commit' | UpstreamFailure;

/** An answer that ended (or stopped) before any content. Retried elsewhere: the model's, here. */
export function emptyAnswer(how: string): UpstreamFailure {
  return {
    code: 'upstream_error',
    status: 502,
    scope: 'model',
    message: `the bridge answered no content (${how})`,
  };
}

const nonEmpty = (value: unknown): boolean =>
  (typeof value === 'string' && value.length > 0) || (Array.isArray(value) && value.length > 0);

/** The `data:` value of one SSE event (its data lines joined), or undefined for a comment-only event. */
function dataOf(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split('\n')) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!text.startsWith('data:')) continue;
    const value = text.charCodeAt(5) === 32 ? text.slice(6) : text.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** Judges one complete SSE event seen before any content. */
export function judgeEvent(event: Buffer, dialect: Dialect): Judgement {
  const data = dataOf(event.toString('utf8'));
  if (data === undefined || data.trim() === '') return 'skip';
  if (data.trim() === '[DONE]') return emptyAnswer('[DONE] before any content');
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    // Not JSON: not ours to judge.
    return 'commit';
  }
  if (typeof json !== 'object' || json === null) return 'commit';
  const { error, choices } = json as { error?: unknown; choices?: unknown };
  const failure = errorObject(error);
  if (failure) return dialect.classifyError(failure, true);
  // Another shape (an Anthropic-style event, say): not ours to judge.
  if (!Array.isArray(choices)) return 'commit';
  const choice = choices[0] as
    | { delta?: Record<string, unknown>; text?: unknown; finish_reason?: unknown }
    | undefined;
  const delta = choice?.delta ?? {};
  if (typeof delta.content === 'string' && delta.content.length > 0) {
    return dialect.contentFailure(delta.content) ?? 'commit';
  }
  if (
    nonEmpty(delta.reasoning_content) ||
    nonEmpty(delta.reasoning) ||
    nonEmpty(delta.tool_calls) ||
    nonEmpty(choice?.text)
  ) {
    return 'commit';
  }
  if (choice?.finish_reason != null) {
    return emptyAnswer(
      `a bare stop (finish_reason ${JSON.stringify(choice.finish_reason)}) before any content`,
    );
  }
  return 'hold';
}

/** Judges a whole non-streamed 200 JSON body: undefined when it is an answer worth passing on. */
export function judgeBody(text: string, dialect: Dialect): UpstreamFailure | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text.trim() === '' ? emptyAnswer('an empty body') : undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { error, choices } = json as { error?: unknown; choices?: unknown };
  const failure = errorObject(error);
  if (failure) return dialect.classifyError(failure, false);
  if (!Array.isArray(choices)) return undefined;
  if (choices.length === 0) return emptyAnswer('no choices');
  const choice = choices[0] as { message?: Record<string, unknown>; text?: unknown } | undefined;
  const message = choice?.message;
  if (typeof message?.content === 'string' && message.content.length > 0)
    return dialect.contentFailure(message.content);
  if (nonEmpty(message?.tool_calls) || nonEmpty(message?.reasoning_content) || nonEmpty(choice?.text))
    return undefined;
  return emptyAnswer('an empty message');
}
