/**
 * `POST /v1/images/generations` (OpenAI's images API). LMArenaBridge has no such endpoint: image
 * models answer ordinary chat requests with `![Image](<url>)`. The relay turns the prompt into a
 * one-message, non-stream chat request for the image model and the bridge's answer into
 * `{created, data: [{url}]}` (image-answer.ts). One image per request (`n` 1), URLs only.
 */
import { z } from 'zod';
import { parseBody } from '../body-schema.js';
import { proxied } from '../proxied-route.js';
import { ImageAnswer } from './image-answer.js';

export const imageRequestSchema = z.looseObject({
  model: z.string().min(1).max(256),
  prompt: z.string().min(1).max(32_000),
  n: z
    .number()
    .int()
    .min(1)
    .max(1, 'the bridge makes one image per request: send n = 1 (or several requests)')
    .nullish(),
  response_format: z
    .enum(['url', 'b64_json'])
    .refine((format) => format === 'url', 'only url is supported: the bridge answers with image links')
    .nullish(),
  // size, quality, style, user: accepted and not passed on (the arena picks them).
});

export const imagesEndpoint = proxied('POST /v1/images/generations', (json) => {
  const request = parseBody(imageRequestSchema, json);
  return {
    model: request.model,
    stream: false,
    body: { model: request.model, messages: [{ role: 'user', content: request.prompt }], stream: false },
    includeUsage: false,
    tap: (metered) => new ImageAnswer(metered),
  };
});
