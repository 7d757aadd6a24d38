/**
 * A hand-driven agent speaking the wire protocol frame by frame: for tests of the relay's side
 * of the protocol, including frames no honest agent would send.
 */
import {
  AGENT_CONNECT_PATH,
  DataKind,
  decodeDataFrame,
  encodeDataFrame,
  type HelloFrame,
  PROTOCOL_VERSION,
  parseRelayFrame,
  type RelayFrame,
  SUBPROTOCOL,
} from '@arena-relay/shared';
import { WebSocket } from 'ws';
import { track } from './cleanup.js';

export type RawAgent = {
  ws: WebSocket;
  frames: RelayFrame[];
  /** Binary frames from the relay (protocol 2 BODY frames), decoded, in order. */
  binary: { kind: number; stream: number; payload: Buffer }[];
  /** Resolves with the next relay frame of this type (already received ones count, in order). */
  next<T extends RelayFrame['type']>(type: T): Promise<Extract<RelayFrame, { type: T }>>;
  send(frame: unknown): void;
  data(stream: number, payload: string | Buffer): void;
  /** An honest `head`: status 200 with this content type. */
  head(stream: number, contentType: string): void;
  end(stream: number): void;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
};

export async function connectRawAgent(
  relayUrl: string,
  token: string,
  options: { hello?: Partial<HelloFrame> | false; autoPong?: boolean } = {},
): Promise<RawAgent> {
  const ws = new WebSocket(relayUrl.replace(/^http/, 'ws') + AGENT_CONNECT_PATH, SUBPROTOCOL, {
    headers: { authorization: `Bearer ${token}` },
    autoPong: options.autoPong ?? true,
  });
  const frames: RelayFrame[] = [];
  const binary: RawAgent['binary'] = [];
  const cursors = new Map<string, number>();
  const waiters: Array<() => void> = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      const frame = decodeDataFrame(data as Buffer);
      if (frame) binary.push({ ...frame, payload: Buffer.from(frame.payload) });
      for (const wake of waiters.splice(0)) wake();
      return;
    }
    const parsed = parseRelayFrame(data.toString());
    if (parsed.ok) frames.push(parsed.frame);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  const agent: RawAgent = {
    ws,
    frames,
    binary,
    closed,
    next(type) {
      return new Promise((resolve) => {
        const check = () => {
          const from = cursors.get(type) ?? 0;
          for (let i = from; i < frames.length; i++) {
            if (frames[i]!.type === type) {
              cursors.set(type, i + 1);
              return resolve(frames[i] as never);
            }
          }
          waiters.push(check);
        };
        check();
      });
    },
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    head(stream, contentType) {
      agent.send({ type: 'head', stream, status: 200, headers: { 'content-type': contentType } });
    },
    end(stream) {
      agent.send({ type: 'end', stream });
    },
    data(stream, payload) {
      ws.send(
        encodeDataFrame(DataKind.DATA, stream, typeof payload === 'string' ? Buffer.from(payload) : payload),
      );
    },
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      ws.terminate();
      await closed;
    },
  };
  track(agent);
  if (options.hello !== false) {
    agent.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      agentVersion: 'raw-test',
      capabilities: ['chat'],
      models: ['gpt-5'],
      maxConcurrency: 4,
      ready: true,
      ...options.hello,
    });
    await agent.next('welcome');
  }
  return agent;
}
