/**
 * The chat route's branch for requests with tools: the bridge cannot call functions, so the
 * request is translated (frontends/chat-request.ts) and the answer re-written as a chat
 * completion with `tool_calls` (frontends/completion-answer.ts), through the same pipeline.
 */
import { chatToBridge, chatTools } from '../frontends/chat-request.js';
import { CompletionAnswer } from '../frontends/completion-answer.js';
import type { ChatRequest } from './chat-schema.js';
import type { Prepared } from './proxied-route.js';
import { translated } from './translated.js';

export function chatWithTools(request: ChatRequest, requestId: string): Prepared {
  const tools = chatTools(request);
  const includeUsage = request.stream === true && request.stream_options?.include_usage === true;
  return translated(
    request.model,
    { ...chatToBridge(request, tools), stream: request.stream === true },
    tools,
    () => new CompletionAnswer(requestId, request.model, includeUsage),
  );
}
