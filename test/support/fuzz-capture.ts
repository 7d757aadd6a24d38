/**
 * Records the exact bytes a fake bridge writes for each chat response, keyed by the response's
 * `chatcmpl-<uuid>` id, so a consumer's copy can be compared byte for byte with the original.
 */
import type { Server, ServerResponse } from 'node:http';
import type { FakeBridge } from './fake-bridge.js';

const ID = /chatcmpl-[0-9a-f-]{36}/;

export function captureBridgeResponses(bridge: FakeBridge): Map<string, Buffer> {
  const server = (bridge as unknown as { server?: Server }).server;
  if (!server)
    throw new Error('the fake bridge no longer exposes its http server: update test/support/fuzz-capture.ts');
  const sent = new Map<string, Buffer>();
  server.prependListener('request', (_req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return write(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk);
      const all = Buffer.concat(chunks);
      const id = ID.exec(all.toString('latin1'))?.[0];
      if (id) sent.set(id, all);
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
  });
  return sent;
}

/** The `chatcmpl-…` id in a response body, if any. */
export function responseId(body: Buffer): string | undefined {
  return ID.exec(body.toString('latin1'))?.[0];
}
