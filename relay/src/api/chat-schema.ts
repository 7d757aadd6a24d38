/**
 * The parts of an OpenAI chat request the relay checks. Unknown fields pass through untouched
 * (the bridge ignores them; other clients may not).
 */
import { z } from 'zod';
import { MAX_CANDIDATES } from '../models/model-aliases.js';
import { parseBody } from './body-schema.js';

const contentPart = z.looseObject({ type: z.string() });

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
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

/** Validates a parsed body; 400 naming the first offending field as `param` (e.g. `messages[0].role`). */
export function validateChatRequest(body: unknown): ChatRequest {
  return parseBody(chatRequestSchema, body);
}
