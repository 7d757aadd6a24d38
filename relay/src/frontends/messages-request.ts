/**
 * `POST /v1/messages` (Anthropic Messages API) → the bridge's chat request. The system prompt
 * (a string or text blocks) becomes a system message; text blocks become text parts and image
 * blocks (base64 or url sources) `image_url` parts. `max_tokens`, `stop_sequences` and
 * `temperature` travel as chat's `max_tokens`, `stop` and `temperature` (LMArenaBridge reads only
 * `model`, `messages` and `stream`; another bridge may honour them). Thinking blocks a client
 * replays from an earlier answer are dropped: the arena has none to continue.
 */
import { z } from 'zod';
import { parseBody } from '../api/body-schema.js';

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const imageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1).max(100), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
  ]),
});
const thinkingBlock = z.looseObject({ type: z.enum(['thinking', 'redacted_thinking']) });
const block = z.discriminatedUnion('type', [textBlock, imageBlock, thinkingBlock]);
type Block = z.infer<typeof block>;

const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});

export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1).max(256),
  max_tokens: z.number().int().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  stop_sequences: z.array(z.string()).max(16).optional(),
  temperature: z.number().min(0).max(2).optional(),
  stream: z.boolean().optional(),
});
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

type ChatPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };
type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string | ChatPart[] };
export type ChatRequest = {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  max_tokens?: number;
  temperature?: number;
  stop?: string[];
};

/** Validates a Messages request: 400 naming the first offending field. */
export function parseMessagesRequest(body: unknown): MessagesRequest {
  return parseBody(messagesRequestSchema, body);
}

/** The chat request that serves `request`. */
export function messagesToChat(request: MessagesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  const system =
    typeof request.system === 'string' ? request.system : request.system?.map((b) => b.text).join('\n\n');
  if (system) messages.push({ role: 'system', content: system });
  for (const m of request.messages) {
    messages.push({
      role: m.role,
      content: typeof m.content === 'string' ? m.content : chatParts(m.content),
    });
  }
  const chat: ChatRequest = { model: request.model, messages, stream: request.stream === true };
  chat.max_tokens = request.max_tokens;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.stop_sequences?.length) chat.stop = request.stop_sequences;
  return chat;
}

function chatParts(blocks: Block[]): ChatPart[] {
  const parts: ChatPart[] = [];
  for (const b of blocks) {
    if (b.type === 'text') parts.push({ type: 'text', text: b.text });
    else if (b.type === 'image') {
      const { source } = b;
      const url = source.type === 'url' ? source.url : `data:${source.media_type};base64,${source.data}`;
      parts.push({ type: 'image_url', image_url: { url } });
    }
  }
  return parts;
}
