/**
 * Dials the bridge for the pool: TLS for `https:`, else plain TCP whose reads land in buffer
 * regions the socket owns (net's `onread`) instead of going through its Readable stream: no
 * ArrayBuffer, stream state or tick per read, and no view of the read either (the reader is told
 * where the read ends).
 */
import net from 'node:net';
import tls from 'node:tls';

/**
 * Bytes of one read region (held per socket, off the V8 heap: 8 MiB at 1 024 streams); a socket
 * takes a new region when less than READ_MIN is left, so no read is smaller than 2 KiB.
 */
const READ_REGION = 8 * 1024;
const READ_MIN = 2 * 1024;

/** Bytes a socket read: `bytes[0, end)`. The bytes stay valid while a view of them is held. */
export type OnRead = (bytes: Buffer, end: number) => void;

/** `ownReadBuffers`: false reads through the Readable stream (to compare in bench/agent-client.ts). */
export function dialBridge(origin: URL, onRead: OnRead, ownReadBuffers = true): net.Socket {
  const https = origin.protocol === 'https:';
  const host = origin.hostname.replace(/^\[|\]$/g, '');
  const port = Number(origin.port) || (https ? 443 : 80);
  const onData = (chunk: Buffer) => onRead(chunk, chunk.length);
  if (https) {
    const servername = net.isIP(host) ? undefined : host;
    return tls.connect({ host, port, servername, ALPNProtocols: ['http/1.1'] }).on('data', onData);
  }
  if (!ownReadBuffers) return net.connect({ host, port }).on('data', onData);
  // Each read lands after the last one in this socket's region, never over bytes handed out:
  // the views a sink holds keep their region alive only as long as it holds them.
  let region = Buffer.allocUnsafeSlow(READ_REGION);
  let used = 0;
  return net.connect({
    host,
    port,
    onread: {
      buffer: () => {
        if (READ_REGION - used < READ_MIN) {
          region = Buffer.allocUnsafeSlow(READ_REGION);
          used = 0;
        }
        return region.subarray(used);
      },
      callback: (nread, buffer) => {
        used += nread;
        onRead(buffer as Buffer, nread);
        // Reading goes on; a paused exchange pauses the socket itself.
        return true;
      },
    },
  });
}
