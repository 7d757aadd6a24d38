/**
 * What every translating front-end (Messages, Responses, chat with tools) hands the proxied-route
 * pipeline: the bridge's chat request it made, and a tap that rewrites the bridge's answer into
 * the API's own shape with `writer` (the tool-call parsing included).
 */

import type { MeteredRequest } from '../usage/metered-request.js';
import type { Prepared } from './proxied-route.js';
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
