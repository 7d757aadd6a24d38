/**
 * A fake bridge script for tool-call round trips: the model answers the first turn with a call
 * (cut mid-tag and mid-character across chunks, as a stream may be) and the turn that carries
 * the tool's result with a final answer. See `FakeBridgeOptions.answer`.
 */

export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city'],
  },
};

export const CALL_TEXT = 'Let me look that up.';
export const CALL_ARGUMENTS = { city: 'Zürich', unit: 'c' };
/** The model's reply that calls the tool. */
export const CALL_CHUNKS = [
  `${CALL_TEXT}\n<tool_`,
  'call>{"name": "get_weather", "arguments": {"city": "Zür',
  'ich", "unit": "c"}}</tool_call>',
];
export const FINAL_CHUNKS = ['It is 12°C', ' in Zürich.'];
export const FINAL_TEXT = FINAL_CHUNKS.join('');
/** A reply that claims a call the schema refuses (no `city`): the relay must pass it as text. */
export const BAD_CALL = '<tool_call>{"name": "get_weather", "arguments": {"town": "Bern"}}</tool_call>';

type Body = { messages?: { role?: string; content?: unknown }[] };

/** The last turn's text as the bridge received it. */
export function lastTurn(body: unknown): string {
  const content = (body as Body).messages?.at(-1)?.content;
  return typeof content === 'string' ? content : JSON.stringify(content ?? '');
}

/** `answer` for the fake bridge: a call first, the final answer once a tool result is in. */
export function weatherScript(body: unknown): readonly string[] {
  return lastTurn(body).includes('<tool_result') ? FINAL_CHUNKS : CALL_CHUNKS;
}

export type BridgeTurn = { role: string; content: unknown };

/** The messages of the last chat request a fake bridge received. */
export function lastMessages(bridge: { requests: readonly { body: unknown }[] }): BridgeTurn[] {
  const body = bridge.requests.at(-1)?.body as { messages?: BridgeTurn[] } | undefined;
  if (!body?.messages) throw new Error('the bridge received no chat request');
  return body.messages;
}
