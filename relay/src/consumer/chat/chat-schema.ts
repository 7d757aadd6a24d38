/**
 * The parts of an OpenAI chat request the relay checks. Unknown fields pass through untouched
 * (the bridge ignores them; other clients may not).
 */
import { z } from 'zod';
import { MAX_CANDIDATES } from '../../models/model-aliases.js';
import { parseBody } from '../body-schema.js';

const contentPart = z.looseObject({ type: z.string() });

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

const message = z.looseObject({
  role: z.enum(ROLES),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1).max(256),
  messages: z.array(message).min(1),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  /** OpenRouter's fallbacks: tried in order after `model` (aliases expand here too). */
  models: z.array(z.string().min(1).max(256)).min(1).max(MAX_CANDIDATES).optional(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/**
 * Validates a parsed body; 400 naming the first offending field as `param` (e.g.
 * `messages[0].role`). A body `plainlyValid` passes as it is, without zod's copy (once per chat
 * request); anything else goes through the schema, which accepts it or says what is wrong.
 */
export function validateChatRequest(body: unknown): ChatRequest {
  if (plainlyValid(body)) return body;
  return parseBody(chatRequestSchema, body);
}

const ROLE_SET: ReadonlySet<unknown> = new Set(ROLES);

/**
 * True only for a body the schema accepts as it is: plain objects (as JSON.parse makes them, no
 * own `__proto__`, which zod would drop) whose checked fields hold. False is no verdict.
 */
export function plainlyValid(body: unknown): body is ChatRequest {
  if (!isPlainObject(body) || Object.hasOwn(body, '__proto__')) return false;
  const { model, messages, stream, stream_options: options } = body;
  if (typeof model !== 'string' || model.length < 1 || model.length > 256) return false;
  if (!Array.isArray(messages) || messages.length < 1) return false;
  for (const m of messages) {
    if (!isPlainObject(m) || Object.hasOwn(m, '__proto__') || !ROLE_SET.has(m.role)) return false;
    const content = m.content;
    if (content === undefined || content === null || typeof content === 'string') continue;
    if (!Array.isArray(content)) return false;
    for (const part of content) {
      if (!isPlainObject(part) || Object.hasOwn(part, '__proto__') || typeof part.type !== 'string')
        return false;
    }
  }
  if (stream !== undefined && typeof stream !== 'boolean') return false;
  const fallbacks = body.models;
  if (fallbacks !== undefined) {
    if (!Array.isArray(fallbacks) || fallbacks.length < 1 || fallbacks.length > MAX_CANDIDATES) return false;
    for (const id of fallbacks) if (typeof id !== 'string' || id.length < 1 || id.length > 256) return false;
  }
  if (options === undefined || options === null) return true;
  if (!isPlainObject(options) || Object.hasOwn(options, '__proto__')) return false;
  return options.include_usage === undefined || typeof options.include_usage === 'boolean';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
