/**
 * `POST /v1/messages` (Anthropic Messages API), served by an agent's chat completions through
 * the one proxied-route pipeline: the request is translated (messages-request.ts), the
 * answer rewritten by a tap (messages-answer.ts), errors answered in Anthropic's shape.
 * `POST /v1/messages/count_tokens` (Claude Code calls it) is answered by the relay itself.
 */
import type { Context, Next } from 'hono';
import type { AppEnv } from '../../http/context.js';
import { parseJson, readBody } from '../../http/read-body.js';
import { candidateModels } from '../../models/model-aliases.js';
import { allowedCandidates } from '../../security/auth.js';
import { estimateTokens, promptChars } from '../../usage/estimate.js';
import { consumerKey, type Endpoint } from '../endpoint.js';
import { type FrontEnd, translatedEndpoint } from '../translated.js';
import { MessagesAnswer } from './messages-answer.js';
import {
  type MessagesRequest,
  messagesToChat,
  messagesTools,
  parseCountTokensRequest,
  parseMessagesRequest,
} from './messages-request.js';

/** Middleware for the Messages path: every error from the first check on is Anthropic-shaped. */
export async function anthropicErrors(c: Context<AppEnv>, next: Next): Promise<void> {
  c.set('errorShape', 'anthropic');
  await next();
}

/** Translation of the Messages API: count_tokens reads the same one. */
const messagesFront: FrontEnd<MessagesRequest> = {
  parse: parseMessagesRequest,
  tools: messagesTools,
  toChat: messagesToChat,
  answer: (request, requestId, promptTokens) => new MessagesAnswer(requestId, request.model, promptTokens),
};

export const messagesEndpoint = translatedEndpoint('POST /v1/messages', messagesFront);

export const countTokensEndpoint: Endpoint = {
  method: 'POST',
  path: '/v1/messages/count_tokens',
  handle: async (deps, { req }) => {
    // The key and scope /v1/messages needs; nothing is sent anywhere, so no rate limit counts it.
    const key = await consumerKey(deps, req, 'POST /v1/messages');
    const request = parseCountTokensRequest(parseJson(await readBody(req, deps.config.maxBodyBytes)));
    allowedCandidates(key, candidateModels(deps.aliases.table, request.model), request.model);
    // The chat request /v1/messages would send, estimated as the usage meter does (usage/estimate.ts).
    const chat = messagesFront.toChat(request, messagesFront.tools(request));
    return { json: { input_tokens: estimateTokens(promptChars(chat)) } };
  },
};
