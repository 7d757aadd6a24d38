/**
 * Baseline: a throwaway nginx doing `proxy_pass` with `proxy_buffering off` (how one proxies SSE),
 * keep-alive to the upstream, one worker (one event loop, like the relay). Generated config in a
 * temporary prefix, `daemon off`, a free loopback port; removed on stop.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processTree } from '../proc-stats.js';
import {
  type Baseline,
  findBinary,
  freePort,
  kill,
  type Skipped,
  spawnLogged,
  waitForPort,
} from './tools.js';

function config(dir: string, listen: number, upstream: URL): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream bridge { server ${upstream.host}; keepalive 256; }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://bridge;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`;
}

export async function startNginx(upstreamUrl: string): Promise<Baseline | Skipped> {
  const binary = findBinary('nginx');
  if (!binary) return { skipped: 'nginx baseline — nginx is not installed (apt-get install nginx)' };
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config(dir, port, new URL(upstreamUrl)));
  const { child, stderr } = spawnLogged(binary, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')]);
  const stop = async () => {
    await kill(child);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForPort(port))) {
    await stop();
    return { skipped: `nginx baseline — nginx did not start (${stderr() || 'no output'})` };
  }
  return {
    name: 'nginx',
    url: `http://127.0.0.1:${port}`,
    entry: () => processTree(child.pid),
    exit: () => [],
    stop,
  };
}
