/**
 * The chat request the front-ends send the bridge (LMArenaBridge reads `model`, `messages` and
 * `stream`; the sampling fields travel for bridges that honour them), and the one way a
 * translated request gains its tool prompt: appended to the system message.
 */
import { truncateChars } from '@arena-relay/shared';
import { z } from 'zod';
import { RelayError } from '../errors/relay-error.js';
import { type ToolRequest, type ToolSpec, toolSystemPrompt } from './tool-prompt.js';

export type ChatPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };
export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string | ChatPart[] };
export type BridgeRequest = {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
};

/** `messages` with the tools' system-prompt section after the system prompt (or as one). */
export function withToolPrompt(messages: ChatMessage[], tools: ToolRequest | undefined): ChatMessage[] {
  if (!tools || tools.tools.length === 0) return messages;
  const section = toolSystemPrompt(tools);
  const first = messages[0];
  if (first?.role === 'system' && typeof first.content === 'string') {
    return [{ role: 'system', content: `${first.content}\n\n${section}` }, ...messages.slice(1)];
  }
  return [{ role: 'system', content: section }, ...messages];
}

/** Parts as one string when they are all text (a transcript turn with rendered tool blocks). */
export function collapse(parts: ChatPart[]): string | ChatPart[] {
  if (parts.some((p) => p.type !== 'text')) return parts;
  return parts.map((p) => (p.type === 'text' ? p.text : '')).join('\n\n');
}

/** The 400 for a tool (or input item) kind the arena cannot serve; `kind` is cut, it is the consumer's. */
export function unsupported(
  what: string,
  kind: unknown,
  param: string,
  why = 'is not supported by this relay',
) {
  const shown = truncateChars(String(kind), 64);
  return new RelayError('invalid_request', `${what} '${shown}' ${why}`, { param });
}

/** A request's `tools` as first read: any type, at most 128 (`functionTools` then checks each). */
export const declaredTools = z
  .array(z.looseObject({ type: z.string() }))
  .max(128)
  .optional();

/**
 * The declared tools, each read by the front-end's function-tool `schema` and made a ToolSpec by
 * `spec`; a 400 (param `tools[i]`) for a tool of any other type.
 */
export function functionTools<T>(
  declared: readonly { type: string }[] | undefined,
  schema: z.ZodType<T>,
  spec: (tool: T) => ToolSpec,
): ToolSpec[] {
  return (declared ?? []).map((t, i) => {
    const parsed = schema.safeParse(t);
    if (!parsed.success) throw unsupported('tool type', t.type, `tools[${i}]`);
    return spec(parsed.data);
  });
}
