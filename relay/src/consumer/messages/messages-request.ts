/**
 * `POST /v1/messages` (Anthropic Messages API) → the bridge's chat request. The system prompt
 * (a string or text blocks) becomes a system message; text blocks become text parts and image
 * blocks (base64 or url sources) `image_url` parts. `max_tokens`, `stop_sequences` and
 * `temperature` travel as chat's `max_tokens`, `stop` and `temperature` (LMArenaBridge reads only
 * `model`, `messages` and `stream`; another bridge may honour them). Thinking blocks a client
 * replays from an earlier answer are dropped: the arena has none to continue. Custom `tools`
 * are described in the system prompt and `tool_use` / `tool_result` blocks rendered as text
 * (tool-prompt.ts); Anthropic's server tools (web search, bash…) are a 400.
 */
import { z } from 'zod';
import { parseBody } from '../body-schema.js';
import {
  type BridgeRequest,
  type ChatMessage,
  type ChatPart,
  collapse,
  unsupported,
  withToolPrompt,
} from '../bridge-request.js';
import { renderToolCall, renderToolResult, type ToolChoice, type ToolRequest } from '../tool-prompt.js';

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const imageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1).max(100), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
  ]),
});
const thinkingBlock = z.looseObject({ type: z.enum(['thinking', 'redacted_thinking']) });
const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().max(256),
  name: z.string().min(1).max(256),
  input: z.record(z.string(), z.unknown()),
});
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().max(256),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
});
const block = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  thinkingBlock,
  toolUseBlock,
  toolResultBlock,
]);
type Block = z.infer<typeof block>;

const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});

const tool = z.looseObject({
  type: z.string().optional(),
  name: z.string().min(1).max(256),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});

const toolChoice = z.discriminatedUnion('type', [
  z.looseObject({ type: z.enum(['auto', 'any', 'none']), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({
    type: z.literal('tool'),
    name: z.string(),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
]);

export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1).max(256),
  max_tokens: z.number().int().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  stop_sequences: z.array(z.string()).max(16).optional(),
  temperature: z.number().min(0).max(2).optional(),
  stream: z.boolean().optional(),
  tools: z.array(tool).max(128).optional(),
  tool_choice: toolChoice.optional(),
});
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

/** Validates a Messages request: 400 naming the first offending field. */
export function parseMessagesRequest(body: unknown): MessagesRequest {
  return parseBody(messagesRequestSchema, body);
}

/** `POST /v1/messages/count_tokens` takes a Messages request without `max_tokens`. */
const countTokensSchema = messagesRequestSchema.extend({ max_tokens: z.number().int().min(1).optional() });

/** Validates a count_tokens request (400 naming the first offending field), as a Messages request. */
export function parseCountTokensRequest(body: unknown): MessagesRequest {
  const request = parseBody(countTokensSchema, body);
  // What max_tokens says never counts towards the prompt.
  return { ...request, max_tokens: request.max_tokens ?? 1 };
}

/** The request's tools, or undefined without any; 400 for a server tool the arena cannot run. */
export function messagesTools(request: MessagesRequest): ToolRequest | undefined {
  const tools = request.tools ?? [];
  tools.forEach((t, i) => {
    if (t.type !== undefined && t.type !== 'custom') {
      throw unsupported('tool type', t.type, `tools[${i}].type`);
    }
  });
  if (tools.length === 0) return undefined;
  const c = request.tool_choice;
  const choice: ToolChoice =
    c?.type === 'tool'
      ? { mode: 'tool', name: c.name }
      : { mode: c?.type === 'any' ? 'required' : (c?.type ?? 'auto') };
  return {
    tools: tools.map((t) => ({ name: t.name, description: t.description, parameters: t.input_schema })),
    choice,
    parallel: c?.disable_parallel_tool_use !== true,
  };
}

/** The chat request that serves `request`. */
export function messagesToChat(request: MessagesRequest, tools?: ToolRequest): BridgeRequest {
  const messages: ChatMessage[] = [];
  const system =
    typeof request.system === 'string' ? request.system : request.system?.map((b) => b.text).join('\n\n');
  if (system) messages.push({ role: 'system', content: system });
  const names = new Map<string, string>();
  for (const m of request.messages) {
    messages.push({
      role: m.role,
      content: typeof m.content === 'string' ? m.content : chatParts(m.content, names),
    });
  }
  const chat: BridgeRequest = {
    model: request.model,
    messages: withToolPrompt(messages, tools),
    stream: request.stream === true,
  };
  chat.max_tokens = request.max_tokens;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.stop_sequences?.length) chat.stop = request.stop_sequences;
  return chat;
}

/** `names`: tool_use ids seen so far → tool names (a tool_result names only the id). */
function chatParts(blocks: Block[], names: Map<string, string>): string | ChatPart[] {
  const parts: ChatPart[] = [];
  let tools = false;
  for (const b of blocks) {
    if (b.type === 'text') parts.push({ type: 'text', text: b.text });
    else if (b.type === 'image') parts.push({ type: 'image_url', image_url: { url: imageUrl(b) } });
    else if (b.type === 'tool_use') {
      tools = true;
      names.set(b.id, b.name);
      parts.push({ type: 'text', text: renderToolCall({ name: b.name, arguments: b.input }) });
    } else if (b.type === 'tool_result') {
      tools = true;
      const output =
        typeof b.content === 'string'
          ? b.content
          : (b.content ?? []).map((c) => (c.type === 'text' ? c.text : '[image]')).join('\n');
      const text = renderToolResult({
        id: b.tool_use_id,
        name: names.get(b.tool_use_id),
        output,
        isError: b.is_error,
      });
      parts.push({ type: 'text', text });
    }
  }
  return tools ? collapse(parts) : parts;
}

function imageUrl(b: z.infer<typeof imageBlock>): string {
  const { source } = b;
  return source.type === 'url' ? source.url : `data:${source.media_type};base64,${source.data}`;
}
