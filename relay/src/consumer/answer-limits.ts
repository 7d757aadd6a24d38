/**
 * How much of an agent's answer a translating front-end may hold at once. The agent runs on a
 * stranger's machine and its credit keeps flowing while a front-end holds text back, so every
 * such buffer has a cap; past it the stream fails (`answerTooLarge`) and the agent is cancelled.
 * The caps are generous: a real model answer is well under 1 MiB (100 000 tokens ≈ 400 KB).
 */
import { RelayError } from '../errors/relay-error.js';

/** Longest SSE line (one event's `data:`) held while its newline has not come, in characters. */
export const SSE_LINE_LIMIT = 4 * 1024 * 1024;
/** Longest streamed reply held from its first `<tool_call>` on, in characters. */
export const TOOL_CALL_LIMIT = 4 * 1024 * 1024;
/** Longest streamed text a front-end keeps to repeat at the end (Responses' `output_text.done`), in characters. */
export const STREAMED_TEXT_LIMIT = 4 * 1024 * 1024;
/** Largest non-stream answer held for translation, in bytes. */
export const ANSWER_LIMIT = 16 * 1024 * 1024;

/** The error a stream fails with when the agent sends more than a front-end may hold. */
export function answerTooLarge(what: string): RelayError {
  return new RelayError('upstream_error', `the bridge's answer is too large: ${what}`);
}
