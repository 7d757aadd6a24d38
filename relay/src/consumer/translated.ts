/**
 * What every translating front-end (Messages, Responses, chat with tools) hands the proxied-route
 * pipeline: the bridge's chat request it made, and a tap that rewrites the bridge's answer into
 * the API's own shape with `writer` (the tool-call parsing included).
 */

import type { MeteredRequest } from '../usage/metered-request.js';
import type { BridgeRequest } from './bridge-request.js';
import type { Endpoint } from './endpoint.js';
import { type Prepared, proxied } from './proxied-route.js';
import type { ConsumerRoute } from './route-scopes.js';
import type { ToolRequest } from './tool-prompt.js';
import { type AnswerWriter, TranslatedAnswer } from './translated-answer.js';

export function translated(
  model: string,
  /** The bridge's chat request (a BridgeRequest, or a chat body with its unknown fields kept). */
  body: { stream: boolean },
  tools: ToolRequest | undefined,
  writer: (metered: MeteredRequest) => AnswerWriter,
): Prepared {
  return {
    model,
    stream: body.stream,
    body,
    includeUsage: false,
    tap: (metered) => new TranslatedAnswer(metered, writer(metered), body.stream, tools),
  };
}

/** A translating front-end's own steps, from the consumer's JSON to the writer of its answer. */
export type FrontEnd<R extends { model: string }> = {
  /** Checks the body: 400 naming the first offending field. */
  parse(json: unknown): R;
  /** The tools the request declares (400 for a kind the arena cannot serve), or undefined. */
  tools(request: R): ToolRequest | undefined;
  toChat(request: R, tools: ToolRequest | undefined): BridgeRequest;
  /** `promptTokens`: the meter's count of the prompt sent, for the answer's usage. */
  answer(request: R, requestId: string, promptTokens: number): AnswerWriter;
};

/** The endpoint that serves `route` by translating it with `front` through the proxied-route pipeline. */
export function translatedEndpoint<R extends { model: string }>(
  route: ConsumerRoute & `POST ${string}`,
  front: FrontEnd<R>,
): Endpoint {
  return proxied(route, (json, requestId) => {
    const request = front.parse(json);
    const tools = front.tools(request);
    return translated(request.model, front.toChat(request, tools), tools, (metered) =>
      front.answer(request, requestId, metered.promptTokens()),
    );
  });
}
