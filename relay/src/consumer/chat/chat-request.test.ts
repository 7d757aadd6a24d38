import { describe, expect, it } from 'vitest';
import { RelayError } from '../../errors/relay-error.js';
import { refusal } from '../../test-support/refusal.js';
import { chatToBridge, chatTools, usesTools } from './chat-request.js';
import { type ChatRequest, validateChatRequest } from './chat-schema.js';

const fn = (name: string) => ({ type: 'function', function: { name, parameters: { type: 'object' } } });
const req = (extra: Record<string, unknown>): ChatRequest =>
  validateChatRequest({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('chat requests with tools', () => {
  it('are translated when they declare tools or carry tool turns, else passed through', () => {
    expect(usesTools(req({}))).toBe(false);
    expect(usesTools(req({ tools: [] }))).toBe(false);
    expect(usesTools(req({ tools: [fn('f')] }))).toBe(true);
    expect(usesTools(req({ messages: [{ role: 'tool', tool_call_id: 'c', content: 'x' }] }))).toBe(true);
    const replay = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
    };
    expect(usesTools(req({ messages: [replay] }))).toBe(true);
  });

  it('map tool_choice and parallel_tool_calls; a tool of another type is a 400 naming it', async () => {
    expect(chatTools(req({ tools: [fn('f')] }))?.choice).toEqual({ mode: 'auto' });
    expect(chatTools(req({ tools: [fn('f')], tool_choice: 'required' }))?.choice).toEqual({
      mode: 'required',
    });
    const named = chatTools(
      req({ tools: [fn('f')], tool_choice: { type: 'function', function: { name: 'f' } } }),
    );
    expect(named?.choice).toEqual({ mode: 'tool', name: 'f' });
    expect(chatTools(req({ tools: [fn('f')], parallel_tool_calls: false }))?.parallel).toBe(false);
    const refused = await refusal(
      (async () =>
        chatTools(req({ tools: [fn('f'), { type: 'custom', custom: { name: 'x'.repeat(500) } }] })))(),
    );
    expect(refused.param).toBe('tools[1]');
    expect(refused.message).toBe("tool type 'custom' is not supported by this relay");
    const long = await refusal((async () => chatTools(req({ tools: [{ type: '工'.repeat(500) }] })))());
    expect(long.message.length).toBeLessThan(120);
    expect(() => chatTools(req({ tools: [fn('f')], tool_choice: 'sometimes' }))).toThrow(RelayError);
  });

  it('render calls and results as text turns, legacy function turns and developer prompts included', () => {
    const request = req({
      tools: [fn('lookup')],
      stream_options: { include_usage: true },
      temperature: 0.1,
      messages: [
        { role: 'developer', content: 'Be terse.' },
        { role: 'user', content: 'Find ünïcode' },
        {
          role: 'assistant',
          content: 'Looking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"ünïcode"}' } },
            { id: 'call_2', type: 'function', function: { name: 'lookup', arguments: 'not json' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'found' }] },
        { role: 'function', name: 'lookup', content: 'legacy' },
      ],
    });
    const body = chatToBridge(request, chatTools(request));
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('stream_options');
    expect(body).toMatchObject({ model: 'gpt-5', temperature: 0.1, stream: false });
    const messages = body.messages as { role: string; content: string }[];
    expect(messages[0]?.role).toBe('system');
    expect(messages[0]?.content).toMatch(/^Be terse\.\n\n# Tools\n/);
    expect(messages[2]).toEqual({
      role: 'assistant',
      content:
        'Looking.\n\n<tool_call>{"name":"lookup","arguments":{"q":"ünïcode"}}</tool_call>\n\n' +
        '<tool_call>{"name":"lookup","arguments":"not json"}</tool_call>',
    });
    expect(messages[3]).toEqual({
      role: 'user',
      content: '<tool_result {"id":"call_1","name":"lookup"}>\nfound\n</tool_result>',
    });
    expect(messages[4]).toEqual({
      role: 'user',
      content: '<tool_result {"id":"lookup","name":"lookup"}>\nlegacy\n</tool_result>',
    });
  });
});
