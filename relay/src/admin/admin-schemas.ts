/** Request bodies of the admin API (zod); http/json-body.ts turns a bad one into a 400. */
import { z } from 'zod';
import { OWNER_WEBHOOK_URL_MAX } from '../alerts/ssrf-guard.js';
import { API_KEY_SCOPES } from '../store/store.js';

/** A limit: a positive integer, or null for "no limit". */
const limit = z.int().positive().max(1_000_000_000).nullable().optional();

const clientRateLimit = z.strictObject({
  requests_per_minute: limit,
  requests_per_day: limit,
  max_concurrency: limit,
});
const keyLimits = clientRateLimit.extend({ tokens_per_day: limit });

const name = z.string().trim().min(1).max(200);
const email = z.email().max(320);
/** The owner's alert webhook; what it may point at is judged by the route (ssrf-guard.ts). */
const webhookUrl = z.string().trim().min(1).max(OWNER_WEBHOOK_URL_MAX);
const bridgeUrl = z.url({ protocol: /^https?$/ }).max(2048);
const capabilities = z.array(z.string().min(1).max(64)).max(64);
const metadata = z.record(z.string(), z.unknown());

export const newClientBody = z.strictObject({
  name,
  email: email.optional(),
  webhook_url: webhookUrl.optional(),
  lmarena_bridge_url: bridgeUrl.optional(),
  capabilities: capabilities.default(['chat']),
  rate_limit: clientRateLimit.optional(),
  metadata: metadata.default({}),
});

/** PATCH: absent = unchanged, null clears; `status: 'active'` re-enables a disabled client. */
export const clientPatchBody = z.strictObject({
  name: name.optional(),
  email: email.nullable().optional(),
  /** A URL (even the same one) issues a new signing secret; null removes the webhook. */
  webhook_url: webhookUrl.nullable().optional(),
  lmarena_bridge_url: bridgeUrl.nullable().optional(),
  capabilities: capabilities.optional(),
  rate_limit: clientRateLimit.optional(),
  status: z.enum(['active', 'disabled']).optional(),
  metadata: metadata.optional(),
});

const scopes = z
  .array(z.enum(API_KEY_SCOPES))
  .min(1)
  .max(API_KEY_SCOPES.length * 2)
  .transform((list) => [...new Set(list)]);
/** null = every model. */
const allowedModels = z.array(z.string().min(1).max(200)).min(1).max(1000).nullable();
/** ISO 8601 with a zone, in the future; stored normalised to UTC. */
const expiresAt = z.iso
  .datetime({ offset: true })
  .refine((v) => Date.parse(v) > Date.now(), { message: 'must be in the future' })
  .transform((v) => new Date(v).toISOString())
  .nullable();

export const newKeyBody = z.strictObject({
  name,
  scopes: scopes.default(['chat', 'messages', 'responses', 'models', 'images']),
  allowed_models: allowedModels.default(null),
  expires_at: expiresAt.default(null),
  limits: keyLimits.optional(),
});

export const keyPatchBody = z.strictObject({
  name: name.optional(),
  scopes: scopes.optional(),
  allowed_models: allowedModels.optional(),
  expires_at: expiresAt.optional(),
  limits: keyLimits.optional(),
});
