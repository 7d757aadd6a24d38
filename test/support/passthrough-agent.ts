/**
 * An old (or hostile) agent on the wire protocol: it forwards each stream to its bridge and passes
 * a 2xx answer through untouched, whatever is in it, as agents did before the 2026 dialects. A
 * non-2xx answer becomes an `error` frame, as every agent has always done. What the relay does with
 * such an agent is the relay's own guarantee (relay/src/proxy/answer-guard.ts).
 */
import { DataKind, decodeDataFrame, type HelloFrame, type OpenFrame } from '@arena-relay/shared';
import { connectRawAgent, type RawAgent } from './raw-agent.js';

export type PassthroughAgent = RawAgent & {
  /** Streams opened on this agent, in order. */
  readonly opened: OpenFrame[];
  /** Streams the relay cancelled. */
  readonly cancelled: number[];
};

export async function startPassthroughAgent(
  relayUrl: string,
  token: string,
  options: {
    /** The bridge's API base, e.g. `http://127.0.0.1:1234/api/v1`; the relay's `/v1/x` goes to `<base>/x`. */
    upstream: string;
    models: string[];
    authorization?: string;
    /** More of the hello (e.g. `protocols: [1, 2]`): by default a v1 agent's. */
    hello?: Partial<HelloFrame>;
  },
): Promise<PassthroughAgent> {
  const raw = await connectRawAgent(relayUrl, token, {
    hello: { models: options.models, maxConcurrency: 16, ...options.hello },
  });
  const agent = Object.assign(raw, { opened: [] as OpenFrame[], cancelled: [] as number[] });
  const aborts = new Map<number, AbortController>();
  const bodies = new Map<number, { parts: Buffer[]; size: number; wake?: () => void }>();
  raw.ws.on('message', (data, isBinary) => {
    if (isBinary) {
      const frame = decodeDataFrame(data as Buffer);
      if (frame?.kind !== DataKind.BODY) return;
      const body = bodies.get(frame.stream) ?? { parts: [], size: 0 };
      body.parts.push(Buffer.from(frame.payload));
      body.size += frame.payload.byteLength;
      bodies.set(frame.stream, body);
      body.wake?.();
      return;
    }
    const frame = JSON.parse(data.toString()) as { type: string; stream?: number };
    if (frame.type === 'cancel' && frame.stream !== undefined) {
      agent.cancelled.push(frame.stream);
      aborts.get(frame.stream)?.abort();
    }
  });
  const bodyOf = (stream: number, size: number) =>
    new Promise<Buffer>((resolve) => {
      const check = () => {
        const body = bodies.get(stream) ?? { parts: [], size: 0 };
        bodies.set(stream, body);
        if (body.size < size) {
          body.wake = check;
          return;
        }
        bodies.delete(stream);
        resolve(Buffer.concat(body.parts));
      };
      check();
    });

  const serve = async (open: OpenFrame) => {
    const { stream } = open;
    const body =
      open.bodyBytes !== undefined ? await bodyOf(stream, open.bodyBytes) : JSON.stringify(open.body ?? null);
    const controller = new AbortController();
    aborts.set(stream, controller);
    try {
      const res = await fetch(options.upstream + open.path.replace(/^\/v1/, ''), {
        method: open.method,
        headers: {
          'content-type': 'application/json',
          ...(options.authorization ? { authorization: options.authorization } : {}),
        },
        body: open.method === 'POST' ? body : undefined,
        signal: controller.signal,
      });
      if (res.status < 200 || res.status >= 300) {
        const message = (await res.text()).slice(0, 8000);
        const code = res.status >= 500 ? 'upstream_error' : 'upstream_rejected';
        return raw.send({ type: 'error', stream, code, message, status: res.status });
      }
      raw.send({
        type: 'head',
        stream,
        status: res.status,
        headers: { 'content-type': res.headers.get('content-type') ?? '' },
      });
      for await (const chunk of res.body ?? []) raw.data(stream, Buffer.from(chunk));
      raw.end(stream);
    } catch {
      // Cancelled by the relay (or the relay went away): nothing more to send.
    } finally {
      aborts.delete(stream);
    }
  };
  void (async () => {
    for (;;) {
      const open = await raw.next('open');
      agent.opened.push(open);
      void serve(open);
    }
  })();
  return agent;
}
