/**
 * Fakes for unit tests of the routing and proxy state machines: agents whose load a test sets and
 * whose streams it drives by hand, and a hub that lists them. No sockets.
 */
import { EventEmitter } from 'node:events';
import type { OpenRequest, RoutableAgent } from '../routing/routable-agent.js';
import type { StreamHandle, StreamHandlers } from '../tunnel/stream.js';

/** A RoutableAgent whose counters a test sets; `opened` keeps what `open` was given. */
export type FakeAgent = RoutableAgent & {
  inFlight: number;
  reserved: number;
  ready: boolean;
  opened: { handlers: StreamHandlers; cancelled?: string; granted: number }[];
};

export function agent(
  id: string,
  options: { models?: string[]; max?: number; clientId?: string; promptLimitChars?: number } = {},
): FakeAgent {
  const a = {
    id,
    promptLimitChars: options.promptLimitChars,
    agentKey: `key-${id}`,
    clientId: options.clientId ?? `client-${id}`,
    relayId: 'relay-1',
    models: new Set(options.models ?? ['gpt-5']),
    maxConcurrency: options.max ?? 1,
    ttfbEwmaMs: undefined,
    inFlight: 0,
    reserved: 0,
    ready: true,
    get routable() {
      return a.ready;
    },
    get hasCapacity() {
      return a.inFlight + a.reserved < a.maxConcurrency;
    },
    get load() {
      return (a.inFlight + a.reserved) / a.maxConcurrency;
    },
    reserve() {
      a.reserved++;
    },
    release() {
      a.reserved--;
    },
    recordTtfb() {},
    opened: [] as FakeAgent['opened'],
    open(_request: OpenRequest, handlers: StreamHandlers): StreamHandle {
      if (a.reserved > 0) a.reserved--;
      a.inFlight++;
      const stream: FakeAgent['opened'][number] = { handlers, granted: 0 };
      a.opened.push(stream);
      return {
        id: a.opened.length,
        cancel: (reason) => {
          stream.cancelled = reason;
        },
        grant: (bytes) => {
          stream.granted += bytes;
        },
      };
    },
  };
  return a;
}

export class FakeHub extends EventEmitter {
  agents: FakeAgent[] = [];
  list() {
    return this.agents;
  }
}
