/**
 * A request whose body was not read (refused before it was) is drained once its answer is out, so
 * that the connection can carry the next request; a body that keeps coming for longer than
 * DRAIN_TIMEOUT_MS, or past MAX_DRAIN_BYTES, gets its connection closed instead. The same bounds
 * as @hono/node-server's, so both request paths treat an unread body alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const DRAIN_TIMEOUT_MS = 500;
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/** Drains `req` after `res` finished, if its body was left unread (GET and HEAD: left to node). */
export function drainUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.readableEnded || req.method === 'GET' || req.method === 'HEAD') return;
  if (res.writableFinished) drain(req);
  else res.once('finish', () => drain(req));
}

function drain(req: IncomingMessage): void {
  if (req.readableEnded || req.destroyed) return;
  let bytesRead = 0;
  const cleanup = () => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', cleanup);
    req.off('error', cleanup);
  };
  const forceClose = () => {
    cleanup();
    const socket = req.socket;
    if (socket && !socket.destroyed) socket.destroySoon();
  };
  const onData = (chunk: Buffer) => {
    bytesRead += chunk.length;
    if (bytesRead > MAX_DRAIN_BYTES) forceClose();
  };
  const timer = setTimeout(forceClose, DRAIN_TIMEOUT_MS);
  timer.unref();
  req.on('data', onData);
  req.on('end', cleanup);
  req.on('error', cleanup);
  req.resume();
}
