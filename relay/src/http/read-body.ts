/** Reads a request body with a hard size limit, straight from the Node request (no web-stream hop). */
import type { IncomingMessage } from 'node:http';
import { RelayError } from '../errors/relay-error.js';
import { checkJsonLimits } from '../security/json-limits.js';

/** Collects the body; 413 when `content-length` or the bytes actually sent exceed `limit`. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        cleanup();
        // Stop reading; the error response is sent with `connection: close`.
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new RelayError('invalid_request', 'request body could not be read', { cause: error }));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooLarge(limit: number): RelayError {
  return new RelayError('request_too_large', `request body exceeds the limit of ${limit} bytes`);
}

/** Parses a JSON body; 400 `invalid_json` with the parser's complaint otherwise. */
export function parseJson(body: Buffer): unknown {
  if (body.byteLength === 0) throw new RelayError('invalid_json', 'request body is empty; expected JSON');
  checkJsonLimits(body);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new RelayError('invalid_json', `request body is not valid JSON: ${(error as Error).message}`);
  }
}
