/**
 * Conversation affinity without a header. Bridges such as CloudWaddie's keep their own upstream
 * session per conversation (keyed by API key, model and first user message) and send upstream
 * only the last message: a later turn that lands on another bridge loses its context. So a chat
 * request is recognised by what opens it — the API key, the model asked for, and its messages up
 * to the first user message (system prompts included) — and a later turn prefers the agent that
 * served the earlier ones (router.ts). The key id is hashed in: another key with the same messages
 * has a conversation of its own.
 *
 * Cheap by construction: run once per request on the body already parsed and checked; at most
 * OPENING_MESSAGES messages and OPENING_CHARS characters of their text are hashed, whatever the
 * size of the request.
 */
import { createHash } from 'node:crypto';
import type { Pin } from './sticky.js';

/** Messages looked at for the opening (a first user message later than that: no affinity). */
export const OPENING_MESSAGES = 16;
/** Characters of the opening's texts hashed, at most (UTF-16 units, all messages together). */
export const OPENING_CHARS = 8192;

type Message = { role?: unknown; content?: unknown };

/**
 * The conversation pin of a chat request (`body` as sent to the bridge), or undefined when it
 * has no user message among its first OPENING_MESSAGES. `follow` is true for a later turn (any
 * message after the first user message).
 */
export function conversationPin(keyId: string, model: string, body: unknown): Pin | undefined {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return undefined;
  const hash = createHash('sha256').update(keyId).update('\u0000').update(model);
  let budget = OPENING_CHARS;
  const limit = Math.min(messages.length, OPENING_MESSAGES);
  for (let i = 0; i < limit; i++) {
    const message = messages[i] as Message | null;
    const role = typeof message?.role === 'string' ? message.role.slice(0, 32) : '';
    hash.update('\u0000').update(role).update('\u0000');
    budget = hashText(hash, message?.content, budget);
    if (role === 'user') {
      return {
        kind: 'conversation',
        key: `${keyId}/${hash.digest('base64url')}`,
        follow: messages.length > i + 1,
      };
    }
  }
  return undefined;
}

/** Hashes up to `budget` characters of a message's text (a string, or its text parts). */
function hashText(hash: ReturnType<typeof createHash>, content: unknown, budget: number): number {
  if (typeof content === 'string') {
    const text = content.slice(0, budget);
    hash.update(text);
    return budget - text.length;
  }
  if (!Array.isArray(content)) return budget;
  for (const part of content) {
    if (budget <= 0) break;
    const p = part as { type?: unknown; text?: unknown } | null;
    if (p?.type === 'text' && typeof p.text === 'string') {
      const text = p.text.slice(0, budget);
      hash.update(text).update('\u0000');
      budget -= text.length;
    } else {
      hash.update('\u0001'); // an image or other part: its place counts, not its bytes
      budget--;
    }
  }
  return budget;
}
