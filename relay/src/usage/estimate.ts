/**
 * Token estimates. LMArenaBridge reports no usage in streams and `prompt_tokens: 0` otherwise
 * (its non-stream `completion_tokens` is the answer's length in characters / 4, rounded down),
 * the models behind LMArena use many different tokenizers, and an agent's own claims cannot be
 * checked. So the relay estimates with the bridge's own rule, for prompts and answers alike:
 * tokens = ⌊characters / 4⌋, where a character is a Unicode code point of the text (message
 * texts for prompts; for answers the `content` strings of the bytes relayed, streamed or not, so
 * both count the same). Image parts and message roles count nothing. Usage is recorded with
 * `estimated: true`.
 */

export const CHARS_PER_TOKEN = 4;

/** Tokens for `chars` code points of text. */
export function estimateTokens(chars: number): number {
  return Math.floor(chars / CHARS_PER_TOKEN);
}

const SURROGATE = /[\ud800-\udfff]/;

/** Unicode code points in `text` (a surrogate pair counts once), without allocating. */
export function codePoints(text: string): number {
  // Most text has no character beyond the BMP: a native scan answers for it.
  if (!SURROGATE.test(text)) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xdc00 || unit > 0xdfff) n++;
  }
  return n;
}

/** Code points of the text a chat request sends: string contents and `text` parts. */
export function promptChars(body: unknown): number {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return 0;
  let chars = 0;
  for (const message of messages) {
    const content = (message as { content?: unknown } | null)?.content;
    if (typeof content === 'string') {
      chars += codePoints(content);
    } else if (Array.isArray(content)) {
      for (const part of content) {
        const p = part as { type?: unknown; text?: unknown } | null;
        if (p?.type === 'text' && typeof p.text === 'string') chars += codePoints(p.text);
      }
    }
  }
  return chars;
}
