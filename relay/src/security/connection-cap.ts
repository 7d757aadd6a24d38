/**
 * Caps the open TCP connections one address may hold (consumers and agents alike), so one
 * client cannot exhaust sockets or memory. Not used behind a proxy, where every connection
 * comes from the proxy: the proxy is the place for that limit then.
 */
import type { Server } from 'node:net';

export function capConnectionsPerAddress(server: Server, max: number): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
