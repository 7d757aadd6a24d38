/**
 * The model's reply read back as tool calls: `<tool_call>{"name": …, "arguments": {…}}</tool_call>`
 * blocks, after any text, whole (readToolReply) or as it streams (ToolReplyStream). A reply whose
 * blocks do not parse, name an undeclared tool or carry arguments that fail the declared schema
 * (tool-schema.ts) is plain text: never a malformed call. The format is tool-prompt.ts's.
 */
import { answerTooLarge, TOOL_CALL_LIMIT } from './answer-limits.js';
import {
  CALL_CLOSE,
  CALL_OPEN,
  type ToolCall,
  type ToolReply,
  type ToolRequest,
  type ToolSpec,
} from './tool-prompt.js';
import { argumentsMatch } from './tool-schema.js';

/** How many `</tool_call>` a block may try as its end. */
const CLOSE_TRIES = 4;

/** An argument value as a call carries it: an object, or a JSON string of one (models do both). */
function argumentsOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      return argumentsOf(JSON.parse(value));
    } catch {
      return undefined;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

const FENCE = '```';

/**
 * `text` without a leading ```lang and a trailing ```. By hand, not by regex: `/\s*```$/` tries
 * every start in a run of whitespace, quadratic in a hostile block of spaces.
 */
function unfenced(text: string): string {
  if (text.startsWith(FENCE)) text = text.replace(/^```[a-z]*\s*/i, '');
  return text.endsWith(FENCE) ? text.slice(0, text.length - FENCE.length).trimEnd() : text;
}

/** One block's inner text as a call to a declared tool whose schema it matches, else undefined. */
function callOf(inner: string, tools: ToolSpec[]): ToolCall | undefined {
  // A fence inside the block is a common slip, and harmless: strip it.
  const body = unfenced(inner.trim());
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const { name, arguments: raw } = json as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string') return undefined;
  const tool = tools.find((t) => t.name === name);
  const args = raw === undefined ? {} : argumentsOf(raw);
  if (!tool || !args || !argumentsMatch(args, tool.parameters)) return undefined;
  return { name, arguments: args };
}

/**
 * The reply as calls, when it is `text? (<tool_call>…</tool_call> ws*)+ text?` and every block is
 * a valid call of one of `tools`; else undefined (the reply is plain text).
 */
export function parseToolReply(text: string, tools: ToolSpec[], parallel = true): ToolReply | undefined {
  let at = text.indexOf(CALL_OPEN);
  if (at < 0) return undefined;
  const before = text.slice(0, at);
  const calls: ToolCall[] = [];
  while (text.startsWith(CALL_OPEN, at)) {
    const start = at + CALL_OPEN.length;
    // An argument may itself hold `</tool_call>`: the block ends at the first close that parses.
    // (A few tries: each is a JSON parse of the rest, and a reply is the model's to make long.)
    let close = text.indexOf(CALL_CLOSE, start);
    let call: ToolCall | undefined;
    for (
      let tries = 0;
      close >= 0 && tries < CLOSE_TRIES;
      close = text.indexOf(CALL_CLOSE, close + 1), tries++
    ) {
      call = callOf(text.slice(start, close), tools);
      if (call) break;
    }
    if (!call) return undefined;
    calls.push(call);
    at = close + CALL_CLOSE.length;
    while (at < text.length && /\s/.test(text[at]!)) at++;
  }
  const after = text.slice(at).trim();
  // Text after the calls that holds another opening is an almost-call: all of it is text.
  if (after.includes(CALL_OPEN)) return undefined;
  if (!parallel && calls.length > 1) return undefined;
  return { before, calls, after };
}

/** Length of the longest suffix of `text` that is a proper prefix of `<tool_call>`. */
function openingTail(text: string): number {
  for (let k = Math.min(CALL_OPEN.length - 1, text.length); k > 0; k--) {
    if (text.endsWith(CALL_OPEN.slice(0, k))) return k;
  }
  return 0;
}

/**
 * A streamed reply, read for calls: text that cannot be part of a call is released at once;
 * from the first `<tool_call>` on, the rest is held until the end, then parsed. Linear: before
 * the opening only the new text and a tail shorter than `<tool_call>` are searched; after it,
 * pieces are kept (joined once, at the end), at most TOOL_CALL_LIMIT characters of them.
 */
export class ToolReplyStream {
  /** Before the opening: the released text's tail that may start `<tool_call>`. */
  #tail = '';
  /** From the opening on: the held pieces, and their length. */
  #held: string[] | undefined;
  #heldLength = 0;

  constructor(private readonly request: ToolRequest) {}

  /**
   * Reads `delta`; returns the text that can go to the consumer now ('' if none). Throws a
   * RelayError when the held reply grows past TOOL_CALL_LIMIT.
   */
  push(delta: string): string {
    if (this.#held) {
      this.#heldLength += delta.length;
      if (this.#heldLength > TOOL_CALL_LIMIT) {
        this.#held = [];
        throw answerTooLarge(`a tool call over ${TOOL_CALL_LIMIT} characters`);
      }
      this.#held.push(delta);
      return '';
    }
    const text = this.#tail + delta;
    const at = text.indexOf(CALL_OPEN);
    if (at >= 0) {
      this.#tail = '';
      this.#held = [text.slice(at)];
      this.#heldLength = text.length - at;
      return text.slice(0, at);
    }
    const safe = text.length - openingTail(text);
    this.#tail = text.slice(safe);
    return text.slice(0, safe);
  }

  /** The reply ended: the text still held (when it holds no valid call) and the calls. */
  end(): { text: string; calls: ToolCall[] } {
    if (!this.#held) return { text: this.#tail, calls: [] };
    const held = this.#held.join('');
    this.#held = [];
    const parsed = parseFor(held, this.request);
    if (!parsed) return { text: held, calls: [] };
    return { text: parsed.after ? `\n\n${parsed.after}` : '', calls: parsed.calls };
  }
}

/** A whole reply as text and calls (no calls when it holds no valid one). */
export function readToolReply(text: string, request: ToolRequest): { text: string; calls: ToolCall[] } {
  const parsed = parseFor(text, request);
  if (!parsed) return { text, calls: [] };
  return { text: parsed.before + (parsed.after ? `\n\n${parsed.after}` : ''), calls: parsed.calls };
}

function parseFor(text: string, request: ToolRequest): ToolReply | undefined {
  const tools = callableTools(request);
  return tools.length === 0 ? undefined : parseToolReply(text, tools, request.parallel);
}

/** The tools a choice allows calls to (`tool`: that one only; `none`: none). */
export function callableTools({ tools, choice }: ToolRequest): ToolSpec[] {
  if (choice.mode === 'none') return [];
  if (choice.mode === 'tool') return tools.filter((t) => t.name === choice.name);
  return tools;
}
