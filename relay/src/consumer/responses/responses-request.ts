/**
 * `POST /v1/responses` (OpenAI Responses API, the stateless subset) → the bridge's chat request.
 * `instructions` is the system prompt; `input` a string (one user turn) or items: messages
 * (`input_text`, `input_image`, and `output_text` when an earlier answer is replayed),
 * `function_call` and `function_call_output` (rendered as text, tool-prompt.ts); reasoning items
 * are dropped. `max_output_tokens`, `temperature` and `top_p` travel as chat's fields. The
 * relay stores nothing: `previous_response_id`, `conversation`, `store: true`, `background`,
 * item references and non-function tools are a 400 that says so.
 */
import { z } from 'zod';
import { RelayError } from '../../errors/relay-error.js';
import { parseBody } from '../body-schema.js';
import {
  type BridgeRequest,
  type ChatMessage,
  type ChatPart,
  collapse,
  declaredTools,
  functionTools,
  unsupported,
  withToolPrompt,
} from '../bridge-request.js';
import { renderReplayedCall, renderToolResult, type ToolChoice, type ToolRequest } from '../tool-prompt.js';

const inputText = z.looseObject({ type: z.enum(['input_text', 'output_text']), text: z.string() });
const inputImage = z.looseObject({ type: z.literal('input_image'), image_url: z.string().min(1) });
const refusal = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });
const part = z.discriminatedUnion('type', [inputText, inputImage, refusal]);

const messageItem = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(part)]),
});
const callItem = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().max(256),
  name: z.string().min(1).max(256),
  arguments: z.string(),
});
const outputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().max(256),
  output: z.union([z.string(), z.array(part)]),
});
const reasoningItem = z.looseObject({ type: z.literal('reasoning') });
type Item =
  | z.infer<typeof messageItem>
  | z.infer<typeof callItem>
  | z.infer<typeof outputItem>
  | z.infer<typeof reasoningItem>;
/** Each item type's schema (a message item may leave out its `type`). */
const ITEMS: Record<string, z.ZodType<Item>> = {
  message: messageItem,
  function_call: callItem,
  function_call_output: outputItem,
  reasoning: reasoningItem,
};

const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1).max(256),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
});
const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), name: z.string() }),
]);

export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.union([z.string(), z.array(z.unknown()).min(1)]),
  instructions: z.string().nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  tools: declaredTools,
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().nullish(),
});
/** A checked request; `items`: its input items, each checked (none for a string input). */
export type ResponsesRequest = z.infer<typeof responsesRequestSchema> & { items: Item[] };

/** Fields that need state the relay does not keep, and why each is refused. */
const STATEFUL: [string, (value: unknown) => boolean, string][] = [
  [
    'previous_response_id',
    (v) => v != null,
    'the relay stores no responses: send the whole conversation as input',
  ],
  [
    'conversation',
    (v) => v != null,
    'the relay stores no conversations: send the whole conversation as input',
  ],
  ['store', (v) => v === true, 'the relay stores no responses: send store: false (or leave it out)'],
  ['background', (v) => v === true, 'background responses are not supported by this relay'],
];

/** Validates a Responses request: 400 naming the first offending field. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (body !== null && typeof body === 'object') {
    for (const [field, refused, why] of STATEFUL) {
      if (refused((body as Record<string, unknown>)[field])) {
        throw new RelayError('invalid_request', `'${field}' is not supported: ${why}`, { param: field });
      }
    }
  }
  const request = parseBody(responsesRequestSchema, body);
  return { ...request, items: typeof request.input === 'string' ? [] : request.input.map(parseItem) };
}

/** One input item, checked against its type's schema (param `input[i]…`). */
function parseItem(raw: unknown, i: number): Item {
  const type = (raw as { type?: unknown } | null)?.type ?? 'message';
  const schema = typeof type === 'string' ? ITEMS[type] : undefined;
  if (!schema) {
    const why =
      type === 'item_reference'
        ? 'item references need stored items; this relay stores none'
        : 'not supported';
    throw unsupported('input item type', type, `input[${i}]`, why);
  }
  return parseBody(schema, raw, `input[${i}]`);
}

/** The request's function tools (400 for any other tool), or undefined without any. */
export function responsesTools(request: ResponsesRequest): ToolRequest | undefined {
  const tools = functionTools(request.tools, functionTool, (f) => ({
    name: f.name,
    description: f.description ?? undefined,
    parameters: f.parameters ?? undefined,
  }));
  if (tools.length === 0) return undefined;
  const c = request.tool_choice;
  const choice: ToolChoice = typeof c === 'object' ? { mode: 'tool', name: c.name } : { mode: c ?? 'auto' };
  return { tools, choice, parallel: request.parallel_tool_calls !== false };
}

/** The chat request that serves `request`. */
export function responsesToChat(request: ResponsesRequest, tools: ToolRequest | undefined): BridgeRequest {
  const messages: ChatMessage[] = [];
  if (request.instructions) messages.push({ role: 'system', content: request.instructions });
  if (typeof request.input === 'string') messages.push({ role: 'user', content: request.input });
  else {
    const names = new Map<string, string>();
    for (const it of request.items) {
      const turn = chatTurn(it, names);
      if (turn) messages.push(turn);
    }
  }
  const chat: BridgeRequest = {
    model: request.model,
    messages: withToolPrompt(messages, tools),
    stream: request.stream === true,
  };
  if (request.max_output_tokens != null) chat.max_tokens = request.max_output_tokens;
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  return chat;
}

function chatTurn(it: Item, names: Map<string, string>): ChatMessage | undefined {
  if (it.type === 'reasoning') return undefined;
  if (it.type === 'function_call') {
    names.set(it.call_id, it.name);
    return { role: 'assistant', content: renderReplayedCall(it.name, it.arguments) };
  }
  if (it.type === 'function_call_output') {
    const output = typeof it.output === 'string' ? it.output : textOf(chatParts(it.output));
    return {
      role: 'user',
      content: renderToolResult({ id: it.call_id, name: names.get(it.call_id), output }),
    };
  }
  const role = it.role === 'developer' ? 'system' : it.role;
  if (typeof it.content === 'string') return { role, content: it.content };
  const parts = chatParts(it.content);
  return { role, content: role === 'user' ? parts : collapse(parts) };
}

function chatParts(parts: z.infer<typeof part>[]): ChatPart[] {
  const out: ChatPart[] = [];
  for (const p of parts) {
    if (p.type === 'input_image') {
      out.push({ type: 'image_url', image_url: { url: p.image_url } });
    } else out.push({ type: 'text', text: p.type === 'refusal' ? p.refusal : p.text });
  }
  return out;
}

function textOf(parts: ChatPart[]): string {
  return parts.map((p) => (p.type === 'text' ? p.text : '[image]')).join('\n');
}
