/**
 * `POST /v1/images/generations` over a bridge that has no such endpoint: LMArenaBridge serves
 * image models as ordinary chat requests whose answer reads `![Image](<url>)` (LMARENABRIDGE.md).
 * This tap holds the bridge's non-stream chat answer (it is small: a link) and answers in
 * OpenAI's images shape, `{created, data: [{url}]}`, or with an OpenAI error when the answer
 * holds no image. Nothing reaches the consumer before the whole answer is in.
 */
import type { ServerResponse } from 'node:http';
import { truncateChars } from '@arena-relay/shared';
import { RelayError, type RelayErrorCode } from '../../errors/relay-error.js';
import type { ResponseTap } from '../../proxy/response-tap.js';
import type { MeteredRequest } from '../../usage/metered-request.js';
import { answerTooLarge } from '../answer-limits.js';

/** Largest chat answer held for an image request; larger is an upstream error. */
export const IMAGE_ANSWER_LIMIT = 1024 * 1024;

/**
 * `![alt](url)` with an http(s) or data:image URL, as the bridge writes image answers. Neither
 * the alt text nor the URL may hold a bracket, and the alt is short: each attempt then stops at
 * the next `![`, so a hostile answer of `![![![…` or `![a](https://![a](https://…` is read in one
 * pass (with `[^\]]*` it was quadratic: 40 KB of `![` took half a second).
 */
const IMAGE_LINK = /!\[[^[\]]{0,256}\]\(\s*<?((?:https?:\/\/|data:image\/)[^\s)>[\]]+)>?\s*\)/g;

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
    this.#size += payload.length;
    // Past the cap the Exchange's guard fails the request and cancels the agent.
    if (this.#size > IMAGE_ANSWER_LIMIT) {
      throw answerTooLarge(`an image answer over ${IMAGE_ANSWER_LIMIT} bytes`);
    }
    this.#chunks.push(payload);
    return true;
  }

  restart(): void {
    this.#chunks.length = 0;
    this.#size = 0;
    this.metered.restart();
  }

  /** A failure before the answer went out (one too large, a tap that threw): an OpenAI error. */
  fail(res: ServerResponse, error: RelayError): void {
    if (res.headersSent) return void res.destroy();
    res.writeHead(error.status, { ...this.#headers, ...error.headers(), 'content-type': 'application/json' });
    res.end(JSON.stringify(error.body()));
  }

  end(res: ServerResponse): RelayErrorCode | undefined {
    const found = imagesOfAnswer(Buffer.concat(this.#chunks, this.#size).toString('utf8'));
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
