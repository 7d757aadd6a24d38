import { describe, expect, it } from 'vitest';
import {
  renderToolCall,
  renderToolResult,
  type ToolRequest,
  type ToolSpec,
  toolSystemPrompt,
} from './tool-prompt.js';
import { parseToolReply, readToolReply, ToolReplyStream } from './tool-reply.js';

const weather: ToolSpec = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer' }, unit: { enum: ['c', 'f'] } },
    required: ['city'],
    additionalProperties: false,
  },
};
const search: ToolSpec = { name: 'recherche_été', parameters: { type: 'object', properties: {} } };
const tools = [weather, search];
const auto: ToolRequest = { tools, choice: { mode: 'auto' }, parallel: true };
const call = (name: string, args: unknown) =>
  `<tool_call>${JSON.stringify({ name, arguments: args })}</tool_call>`;

/** Feeds `text` to a stream reader in pieces of `size`; returns all it released and its end. */
function streamed(text: string, size: number, request = auto) {
  const reader = new ToolReplyStream(request);
  let released = '';
  for (let i = 0; i < text.length; i += size) released += reader.push(text.slice(i, i + size));
  const end = reader.end();
  return { text: released + end.text, calls: end.calls };
}

describe('toolSystemPrompt', () => {
  it('lists every tool with its description and schema, the exact format and the choice', () => {
    const prompt = toolSystemPrompt(auto);
    expect(prompt).toContain('"get_weather"');
    expect(prompt).toContain('Current weather for a city');
    expect(prompt).toContain(JSON.stringify(weather.parameters));
    expect(prompt).toContain('"recherche_été"');
    expect(prompt).toContain('<tool_call>{"name": "<tool name>", "arguments": {');
    expect(prompt).toContain('several tools at once');
    expect(toolSystemPrompt({ ...auto, choice: { mode: 'required' } })).toContain(
      'must call at least one tool',
    );
    expect(toolSystemPrompt({ ...auto, choice: { mode: 'tool', name: 'get_weather' } })).toContain(
      'must call the tool "get_weather"',
    );
    expect(toolSystemPrompt({ ...auto, choice: { mode: 'none' } })).toContain('Do not call any tool');
    expect(toolSystemPrompt({ ...auto, parallel: false })).toContain('at most one tool');
  });

  it('renders earlier calls in the reply format and results with their id', () => {
    const text = renderToolCall({ name: 'get_weather', arguments: { city: 'Zürich' } });
    expect(parseToolReply(text, tools)?.calls).toEqual([
      { name: 'get_weather', arguments: { city: 'Zürich' } },
    ]);
    expect(renderToolResult({ id: 'call_1', name: 'get_weather', output: '12°C', isError: true })).toBe(
      '<tool_result {"id":"call_1","name":"get_weather","error":true}>\n12°C\n</tool_result>',
    );
  });
});

describe('parseToolReply', () => {
  it('reads text, then calls, then trailing text', () => {
    const reply = `Let me check.\n${call('get_weather', { city: 'Paris', days: 2 })}\n ${call('recherche_été', {})}\nDone.`;
    expect(parseToolReply(reply, tools)).toEqual({
      before: 'Let me check.\n',
      calls: [
        { name: 'get_weather', arguments: { city: 'Paris', days: 2 } },
        { name: 'recherche_été', arguments: {} },
      ],
      after: 'Done.',
    });
  });

  it('accepts arguments sent as a JSON string, omitted arguments, and a fence inside the block', () => {
    const asString = `<tool_call>{"name":"get_weather","arguments":"{\\"city\\":\\"Oslo\\"}"}</tool_call>`;
    expect(parseToolReply(asString, tools)?.calls[0]?.arguments).toEqual({ city: 'Oslo' });
    expect(parseToolReply('<tool_call>{"name":"recherche_été"}</tool_call>', tools)?.calls).toHaveLength(1);
    const fenced =
      '<tool_call>\n```json\n{"name":"get_weather","arguments":{"city":"Rome"}}\n```\n</tool_call>';
    expect(parseToolReply(fenced, tools)?.calls[0]?.arguments).toEqual({ city: 'Rome' });
  });

  it('an argument holding </tool_call> is still one call', () => {
    const reply = call('get_weather', { city: 'a</tool_call>b' });
    expect(parseToolReply(reply, tools)?.calls).toEqual([
      { name: 'get_weather', arguments: { city: 'a</tool_call>b' } },
    ]);
  });

  it.each([
    ['no block', 'The weather is fine.'],
    ['no closing tag', '<tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}'],
    ['bad JSON', '<tool_call>{"name":"get_weather","arguments":{city:"Paris"}}</tool_call>'],
    ['not an object', '<tool_call>["get_weather"]</tool_call>'],
    ['undeclared tool', call('delete_everything', {})],
    ['missing required', call('get_weather', { days: 1 })],
    ['wrong top-level type', call('get_weather', { city: 'Paris', days: 'two' })],
    ['not an integer', call('get_weather', { city: 'Paris', days: 1.5 })],
    ['outside the enum', call('get_weather', { city: 'Paris', unit: 'k' })],
    ['undeclared property', call('get_weather', { city: 'Paris', country: 'FR' })],
    ['arguments an array', '<tool_call>{"name":"get_weather","arguments":["Paris"]}</tool_call>'],
    ['name not a string', '<tool_call>{"name":7,"arguments":{}}</tool_call>'],
    ['a second, broken block', `${call('recherche_été', {})}<tool_call>{"name":</tool_call>`],
    ['an opening after the text', `${call('recherche_été', {})} then <tool_call> more`],
  ])('%s: plain text', (_, reply) => {
    expect(parseToolReply(reply, tools)).toBeUndefined();
    expect(readToolReply(reply, auto)).toEqual({ text: reply, calls: [] });
  });

  it('parallel: false refuses two calls; a tool choice limits calls to that tool; none parses none', () => {
    const two = call('recherche_été', {}) + call('recherche_été', {});
    expect(readToolReply(two, { ...auto, parallel: false }).calls).toEqual([]);
    const weatherOnly: ToolRequest = { ...auto, choice: { mode: 'tool', name: 'get_weather' } };
    expect(readToolReply(call('recherche_été', {}), weatherOnly).calls).toEqual([]);
    expect(readToolReply(call('get_weather', { city: 'X' }), weatherOnly).calls).toHaveLength(1);
    expect(readToolReply(call('recherche_été', {}), { ...auto, choice: { mode: 'none' } }).calls).toEqual([]);
  });
});

describe('ToolReplyStream', () => {
  it('releases plain text at once, holding back only what may open a call', () => {
    const reader = new ToolReplyStream(auto);
    expect(reader.push('Hello <to')).toBe('Hello ');
    expect(reader.push('day> is fine')).toBe('<today> is fine');
    expect(reader.end()).toEqual({ text: '', calls: [] });
  });

  it('holds everything from the first <tool_call> and ends as calls, any chunking', () => {
    const reply = `Checking…\n${call('get_weather', { city: '東京' })}`;
    for (const size of [1, 2, 3, 7, 1000]) {
      expect(streamed(reply, size)).toEqual({
        text: 'Checking…\n',
        calls: [{ name: 'get_weather', arguments: { city: '東京' } }],
      });
    }
  });

  it('an almost-call ends as the text it was', () => {
    const reply = 'Sure: <tool_call>{"name":"get_weather","arguments":{}}</tool_call>';
    for (const size of [1, 5, 1000]) expect(streamed(reply, size)).toEqual({ text: reply, calls: [] });
  });
});
