/**
 * The chat route's branch for requests with tools: the bridge cannot call functions, so the
 * request is translated (consumer/chat/chat-request.ts) and the answer re-written as a chat
 * completion with `tool_calls` (consumer/chat/completion-answer.ts), through the same pipeline.
 */

import type { Prepared } from '../proxied-route.js';
import { translated } from '../translated.js';
import { chatToBridge, chatTools } from './chat-request.js';
import type { ChatRequest } from './chat-schema.js';
import { CompletionAnswer } from './completion-answer.js';

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
