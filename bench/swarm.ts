/**
 * A swarm of raw agents in this process: each does the WebSocket handshake with the client token,
 * says `hello` (frames from shared/) and waits for `welcome`, then holds the socket or closes it.
 * No bridge behind them: they only cost the relay what an idle connected agent costs.
 */
import {
  AGENT_CONNECT_PATH,
  type HelloFrame,
  PROTOCOL_VERSION,
  parseRelayFrame,
  SUBPROTOCOL,
} from '@arena-relay/shared';
import { WebSocket } from 'ws';

/** How long one agent may take from dial to `welcome`, in ms. */
const WELCOME_TIMEOUT_MS = 30_000;

let serial = 0;

function hello(): HelloFrame {
  return {
    type: 'hello',
    version: PROTOCOL_VERSION,
    agentVersion: 'bench-swarm',
    instanceId: `bench-${process.pid}-${++serial}`,
    capabilities: [],
    models: ['bench-idle'],
    maxConcurrency: 1,
    ready: true,
  };
}

/** One agent, resolved once welcomed; rejects when refused, closed or too slow. */
export function connectAgent(relayUrl: string, token: string): Promise<WebSocket> {
  const url = relayUrl.replace(/^http/, 'ws') + AGENT_CONNECT_PATH;
  const ws = new WebSocket(url, SUBPROTOCOL, {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail('no welcome in time'), WELCOME_TIMEOUT_MS);
    ws.once('unexpected-response', (_req, res) => fail(`upgrade refused: ${res.statusCode}`));
    ws.once('error', (error) => fail(error.message));
    ws.once('close', (code) => fail(`closed (${code}) before welcome`));
    ws.once('open', () => ws.send(JSON.stringify(hello())));
    ws.once('message', (data) => {
      const parsed = parseRelayFrame(String(data));
      if (!parsed.ok || parsed.frame.type !== 'welcome') return fail('first frame was not welcome');
      clearTimeout(timer);
      ws.removeAllListeners('close');
      ws.removeAllListeners('error');
      ws.on('error', () => undefined);
      resolve(ws);
    });
  });
}

/** Closes with 1000 and waits for the close handshake (terminates after 5 s). */
export function closeAgent(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => ws.terminate(), 5_000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(1000, 'bench done');
  });
}

/**
 * Runs `count` tasks, `parallel` at a time, stopping early at `deadline` (performance.now()).
 * Returns how many succeeded and failed, and the first failure's message.
 */
export async function inParallel(
  count: number,
  parallel: number,
  deadline: number,
  task: (index: number) => Promise<void>,
): Promise<{ ok: number; failed: number; firstError: string | undefined }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count && performance.now() < deadline) {
        const index = next++;
        try {
          await task(index);
          ok++;
        } catch (error) {
          failed++;
          firstError ??= (error as Error).message;
        }
      }
    }),
  );
  return { ok, failed, firstError };
}
