/**
 * `POST /v1/images/generations` over a bridge that has no such endpoint: LMArenaBridge serves
 * image models as ordinary chat requests whose answer reads `![Image](<url>)` (LMARENABRIDGE.md).
 * This tap holds the bridge's non-stream chat answer (it is small: a link) and answers in
 * OpenAI's images shape, `{created, data: [{url}]}`, or with an OpenAI error when the answer
 * holds no image. Nothing reaches the consumer before the whole answer is in.
 */
import type { ServerResponse } from 'node:http';
import { truncateChars } from '@arena-relay/shared';
import { RelayError, type RelayErrorCode } from '../errors/relay-error.js';
import type { MeteredRequest } from '../usage/metered-request.js';
import type { ResponseTap } from './response-tap.js';

/** Largest chat answer held for an image request; larger is an upstream error. */
export const IMAGE_ANSWER_LIMIT = 1024 * 1024;

/** `![alt](url)` with an http(s) or data:image URL, as the bridge writes image answers. */
const IMAGE_LINK = /!\[[^\]]*\]\(\s*<?((?:https?:\/\/|data:image\/)[^\s)>]+)>?\s*\)/g;

export type ImageResult = { created: number; data: { url: string }[] };

/** The image URLs in a bridge chat answer (`choices[0].message.content`), or why there are none. */
export function imagesOfAnswer(body: string): { urls: string[] } | { error: RelayError } {
  let content: unknown;
  try {
    const answer = JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] };
    content = answer.choices?.[0]?.message?.content;
  } catch {
    return {
      error: new RelayError('upstream_error', 'the bridge answered the image request with invalid JSON'),
    };
  }
  if (typeof content !== 'string') {
    return {
      error: new RelayError('upstream_error', 'the bridge answered the image request without content'),
    };
  }
  const urls = [...content.matchAll(IMAGE_LINK)].map((match) => match[1]!);
  if (urls.length > 0) return { urls };
  const said = truncateChars(content, 300);
  return {
    error: new RelayError('upstream_error', `the model answered without an image: ${JSON.stringify(said)}`),
  };
}

export class ImageAnswer implements ResponseTap {
  #headers: Record<string, string> = {};
  readonly #chunks: Buffer[] = [];
  #size = 0;

  /** The metering sees every payload (usage counts the answer's text). */
  constructor(private readonly metered: Pick<MeteredRequest, 'observe' | 'restart'>) {}

  head(_res: ServerResponse, _status: number, headers: Record<string, string>): void {
    this.#headers = headers;
  }

  write(_res: ServerResponse, payload: Buffer): boolean {
    this.metered.observe(payload);
    if (this.#size + payload.length <= IMAGE_ANSWER_LIMIT) this.#chunks.push(payload);
    this.#size += payload.length;
    return true;
  }

  restart(): void {
    this.#chunks.length = 0;
    this.#size = 0;
    this.metered.restart();
  }

  end(res: ServerResponse): RelayErrorCode | undefined {
    const found =
      this.#size > IMAGE_ANSWER_LIMIT
        ? { error: new RelayError('upstream_error', 'the bridge answered the image request with over 1 MiB') }
        : imagesOfAnswer(Buffer.concat(this.#chunks, this.#size).toString('utf8'));
    const headers = { ...this.#headers, 'content-type': 'application/json' };
    if ('error' in found) {
      res.writeHead(found.error.status, headers);
      res.write(JSON.stringify(found.error.body()));
      return found.error.code;
    }
    const result: ImageResult = {
      created: Math.floor(Date.now() / 1000),
      data: found.urls.map((url) => ({ url })),
    };
    res.writeHead(200, headers);
    res.write(JSON.stringify(result));
    return undefined;
  }
}
