/**
 * Prompt-based tool calling, the one format every front-end shares. LMArena has no native
 * function calling, so a request's tools are described in a system-prompt section (name,
 * description, JSON schema, and the exact reply format), calls and results already in the
 * conversation are rendered into the transcript as text in that same format, and the model's
 * reply is parsed back (tool-reply.ts). This half writes: the tools section of the system prompt
 * and the transcript's earlier calls and results.
 */
import type { JsonSchema } from './tool-schema.js';

export const CALL_OPEN = '<tool_call>';
export const CALL_CLOSE = '</tool_call>';

export type ToolSpec = {
  name: string;
  description?: string | undefined;
  parameters?: JsonSchema | undefined;
};
/** `auto`: the model decides; `none`: no calls (tools only described); `required`: at least one. */
export type ToolChoice = { mode: 'auto' | 'none' | 'required' } | { mode: 'tool'; name: string };
export type ToolCall = { name: string; arguments: Record<string, unknown> };
/** The model's reply split: text before the first call, the calls, text after the last one. */
export type ToolReply = { before: string; calls: ToolCall[]; after: string };

/** What a front-end's request declares; `parallel: false` asks for one call at most. */
export type ToolRequest = { tools: ToolSpec[]; choice: ToolChoice; parallel: boolean };

/** What the prompt asks of the model for each tool choice but a named tool. */
const CHOICE_RULES = {
  auto: 'Call a tool only when it helps; otherwise answer in plain text.',
  none: 'Do not call any tool in this reply; answer in plain text.',
  required: 'You must call at least one tool in this reply.',
} as const;

/** The system-prompt section that declares the tools and the reply format. */
export function toolSystemPrompt({ tools, choice, parallel }: ToolRequest): string {
  const list = tools
    .map((t) => {
      const lines = [`- name: ${JSON.stringify(t.name)}`];
      if (t.description) lines.push(`  description: ${t.description}`);
      lines.push(`  parameters (JSON schema): ${JSON.stringify(t.parameters ?? { type: 'object' })}`);
      return lines.join('\n');
    })
    .join('\n');
  const rule =
    choice.mode === 'tool'
      ? `You must call the tool ${JSON.stringify(choice.name)} in this reply.`
      : CHOICE_RULES[choice.mode];
  return [
    '# Tools',
    'You can call these tools:',
    list,
    '',
    'To call a tool, reply with one block per call, exactly in this form, after any text you want to say first:',
    `${CALL_OPEN}{"name": "<tool name>", "arguments": {<arguments as a JSON object matching the parameters schema>}}${CALL_CLOSE}`,
    'Write the block as plain text, not inside a code fence. Write nothing after your last block:',
    'the results come back in the next message as <tool_result> blocks.',
    parallel ? 'You may call several tools at once (several blocks).' : 'Call at most one tool per reply.',
    rule,
  ].join('\n');
}

/** An assistant's earlier call, as the transcript shows it. */
export function renderToolCall(call: ToolCall): string {
  return `${CALL_OPEN}${JSON.stringify({ name: call.name, arguments: call.arguments })}${CALL_CLOSE}`;
}

/**
 * An earlier call whose arguments came as JSON text (chat, Responses). Text that does not parse
 * is replayed as it was sent: the model sees what it wrote.
 */
export function renderReplayedCall(name: string, argumentsJson: string): string {
  let args: unknown;
  try {
    args = JSON.parse(argumentsJson);
  } catch {
    args = argumentsJson;
  }
  return renderToolCall({ name, arguments: args as Record<string, unknown> });
}

/** A tool's result, as the transcript shows it (the id ties it to its call). */
export function renderToolResult(result: {
  id: string;
  name?: string | undefined;
  output: string;
  isError?: boolean | undefined;
}): string {
  const head = {
    id: result.id,
    ...(result.name ? { name: result.name } : {}),
    ...(result.isError ? { error: true } : {}),
  };
  return `<tool_result ${JSON.stringify(head)}>\n${result.output}\n</tool_result>`;
}
