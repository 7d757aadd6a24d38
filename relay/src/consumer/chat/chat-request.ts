/**
 * A chat completions request with tools → the bridge's chat request. The bridge (LMArena) has
 * no function calling: `tools` / `tool_choice` / `parallel_tool_calls` become the tool prompt
 * (tool-prompt.ts), an assistant turn's `tool_calls` and each `tool` (or legacy `function`)
 * message are rendered into the transcript as text; every other field passes on as it came.
 */
import { z } from 'zod';
import { parseBody } from '../body-schema.js';
import {
  type ChatMessage,
  type ChatPart,
  declaredTools,
  functionTools,
  withToolPrompt,
} from '../bridge-request.js';
import { renderReplayedCall, renderToolResult, type ToolChoice, type ToolRequest } from '../tool-prompt.js';
import type { ChatRequest } from './chat-schema.js';

const functionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1).max(256),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});
const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
]);
const toolsSchema = z.looseObject({
  tools: declaredTools,
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
});

const toolCall = z.looseObject({
  id: z.string().max(256),
  function: z.looseObject({ name: z.string().max(256), arguments: z.string() }),
});
const turn = z.looseObject({
  role: z.string(),
  content: z.unknown().optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_call_id: z.string().max(256).optional(),
  name: z.string().max(256).optional(),
});
type Turn = z.infer<typeof turn>;

/** True when the request declares tools or carries tool turns: the relay must translate it. */
export function usesTools(request: ChatRequest): boolean {
  if (Array.isArray(request.tools) && request.tools.length > 0) return true;
  return request.messages.some(
    (m) =>
      m.role === 'tool' || m.role === 'function' || (Array.isArray(m.tool_calls) && m.tool_calls.length > 0),
  );
}

/** The request's function tools (400 for tools of another type), or undefined without any. */
export function chatTools(request: ChatRequest): ToolRequest | undefined {
  const fields = parseBody(toolsSchema, request);
  const tools = functionTools(fields.tools, functionTool, ({ function: f }) => ({
    name: f.name,
    description: f.description,
    parameters: f.parameters,
  }));
  if (tools.length === 0) return undefined;
  const c = fields.tool_choice;
  const choice: ToolChoice =
    typeof c === 'object' ? { mode: 'tool', name: c.function.name } : { mode: c ?? 'auto' };
  return { tools, choice, parallel: fields.parallel_tool_calls !== false };
}

/** The bridge's request for `request`: tool fields gone, tool turns as text, the tool prompt in. */
export function chatToBridge(request: ChatRequest, tools: ToolRequest | undefined): Record<string, unknown> {
  const {
    tools: _t,
    tool_choice: _c,
    parallel_tool_calls: _p,
    stream_options: _s,
    functions: _f,
    ...rest
  } = request;
  const names = new Map<string, string>();
  const messages = request.messages.map((m, i) => bridgeTurn(parseBody(turn, m), names, i));
  return { ...rest, stream: request.stream === true, messages: withToolPrompt(messages, tools) };
}

function bridgeTurn(m: Turn, names: Map<string, string>, index: number): ChatMessage {
  if (m.role === 'tool' || m.role === 'function') {
    const id = m.tool_call_id ?? m.name ?? `call_${index}`;
    const name = m.name ?? names.get(id);
    return { role: 'user', content: renderToolResult({ id, name, output: textOf(m.content) }) };
  }
  if (m.role === 'assistant' && m.tool_calls?.length) {
    const blocks = m.tool_calls.map((call) => {
      names.set(call.id, call.function.name);
      return renderReplayedCall(call.function.name, call.function.arguments);
    });
    const text = textOf(m.content);
    return { role: 'assistant', content: [text, ...blocks].filter((s) => s !== '').join('\n\n') };
  }
  const role = m.role === 'developer' ? 'system' : (m.role as ChatMessage['role']);
  return { ...m, role, content: (m.content ?? '') as string | ChatPart[] };
}

/** A message's content as text (text parts joined; other parts have no text to give). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) =>
      (p as { type?: unknown }).type === 'text' ? String((p as { text?: unknown }).text ?? '') : '',
    )
    .join('\n');
}
