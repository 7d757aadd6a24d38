/**
 * For tests: CloudWaddie's bridge served from its recordings on 127.0.0.1, port 0. It answers
 * `/api/v1/health` with the recording `health`, `/api/v1/models` by the key (`Bearer sk-lmab-good`:
 * its models; none: `noKey`; any other: the wrong-key refusal) and anything else with its 404.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recording } from './replay.js';

export type RecordedBridge = {
  /** The origin, `http://127.0.0.1:<port>`. */ url: string;
  close(): Promise<void>;
};

export async function serveCloudwaddie(
  options: { health?: string; noKey?: string } = {},
): Promise<RecordedBridge> {
  const { health = 'health.txt', noKey = 'models-wrongkey.txt' } = options;
  const server = createServer((req, res) => {
    const key = req.headers.authorization;
    const name =
      req.url === '/api/v1/health'
        ? health
        : req.url === '/api/v1/models'
          ? key === undefined
            ? noKey
            : key === 'Bearer sk-lmab-good'
              ? 'models-withkey.txt'
              : 'models-wrongkey.txt'
          : undefined;
    if (!name)
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
    const rec = recording('cloudwaddie', name);
    res.writeHead(rec.status, { 'content-type': rec.headers['content-type'] ?? '' }).end(rec.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
