/**
 * Prompt limits known before sending. An agent may advertise the longest prompt its bridge takes
 * (`hello.promptLimitChars`; CloudWaddie's LMArenaBridge refuses more than 113 567 characters with
 * a 400). The relay counts a request's prompt the way that bridge does, routes it only to agents
 * whose limit it fits, and when it fits none answers a 400 `prompt_too_long` itself, with the
 * counts, before any bridge is asked. The bridge's own refusal maps to the same answer.
 *
 * Counted as CloudWaddie counts (its `api_server`): the system messages' texts joined by a blank
 * line, then a blank line and the last message's text (a string as it is; text parts joined by
 * newlines, trimmed). Characters are Unicode code points (Python's `len`). The 400 itself, and the
 * reading of the bridge's own refusal, are errors/prompt-too-long.ts.
 */
import { codePoints } from '../usage/estimate.js';

type Message = { role?: unknown; content?: unknown };

/** The prompt's length as a bridge that sends the system messages and the last message counts it. */
export function bridgePromptChars(body: unknown): number {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 0;
  let system = 0;
  let systems = 0;
  for (const message of messages) {
    const m = message as Message | null;
    if (m?.role !== 'system') continue;
    system += textChars(m.content);
    systems++;
  }
  // "\n\n".join(...) of the system texts; an empty system prompt adds nothing.
  if (systems > 1) system += 2 * (systems - 1);
  const last = textChars((messages[messages.length - 1] as Message | null)?.content);
  return system > 0 ? system + 2 + last : last;
}

/** Code points of a message's text: a string, or its text parts joined by "\n" and trimmed. */
function textChars(content: unknown): number {
  if (typeof content === 'string') return codePoints(content);
  if (!Array.isArray(content)) return 0;
  const texts: string[] = [];
  for (const part of content) {
    const p = part as { type?: unknown; text?: unknown } | null;
    if (p?.type === 'text' && typeof p.text === 'string') texts.push(p.text);
  }
  return codePoints(texts.join('\n').trim());
}

/** True when `agent` takes a prompt of `chars` characters (no limit advertised: it does). */
export function fitsLimit(
  agent: { promptLimitChars?: number | undefined },
  chars: number | undefined,
): boolean {
  const limit = agent.promptLimitChars;
  return limit === undefined || chars === undefined || chars <= limit;
}
