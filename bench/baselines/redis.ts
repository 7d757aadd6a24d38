/**
 * A throwaway redis-server for the cross-relay path: two relays forward streams to each other
 * over Redis pub/sub, so Redis is a hop of that path and its CPU is measured with it. A private
 * one (no persistence, a free loopback port) keeps the suite's shared Redis and other users'
 * load out of the figure.
 */
import { findBinary, freePort, kill, type Skipped, spawnLogged, waitForPort } from './tools.js';

export type RedisServer = { url: string; pid: number; stop(): Promise<void> };

export async function startRedis(): Promise<RedisServer | Skipped> {
  const binary = findBinary('redis-server');
  if (!binary)
    return { skipped: 'cross-relay path — redis-server is not installed (apt-get install redis-server)' };
  const port = await freePort();
  const { child, stderr } = spawnLogged(binary, [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxclients',
    '1000',
  ]);
  const stop = () => kill(child);
  if (!(await waitForPort(port))) {
    await stop();
    return { skipped: `cross-relay path — redis-server did not start (${stderr() || 'no output'})` };
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop };
}
