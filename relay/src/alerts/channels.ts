/**
 * Notification channels: where alerts go. One setting in the Store (so SQLite and Redis hold them
 * alike and every relay of a cluster reads the same list). A channel's secrets (a webhook's
 * signing secret, a Telegram bot token, a Slack or Discord webhook URL, which is itself a
 * credential) are stored as they are — they must be usable — and never shown again in full.
 */
import { z } from 'zod';

export const CHANNELS_SETTING = 'alert_channels';
export const MAX_CHANNELS = 50;

const httpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry credentials');
const name = z.string().trim().min(1).max(128);

/** What an operator sends to create a channel (the kind decides the rest). */
export const channelInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('webhook'), name, url: httpUrl }),
  z.strictObject({ kind: z.literal('slack'), name, url: httpUrl }),
  z.strictObject({ kind: z.literal('discord'), name, url: httpUrl }),
  z.strictObject({
    kind: z.literal('telegram'),
    name,
    bot_token: z.string().regex(/^\d{1,20}:[\w-]{20,100}$/, 'must look like 123456:ABC…'),
    chat_id: z.union([z.string().regex(/^(-?\d{1,20}|@\w{4,64})$/), z.number().int()]).transform(String),
  }),
  z.strictObject({
    kind: z.literal('email'),
    name,
    to: z.array(z.email().max(254)).min(1).max(20),
  }),
]);
export type ChannelInput = z.infer<typeof channelInput>;

export const channelPatch = z.strictObject({ name: name.optional(), enabled: z.boolean().optional() });

/** A stored channel: the input, plus identity, state and (webhooks) the signing secret. */
export const storedChannel = z.intersection(
  channelInput,
  z.object({
    id: z.string().min(1).max(64),
    enabled: z.boolean(),
    created_at: z.string(),
    /** HMAC-SHA256 key of a generic webhook (`x-arena-signature`). */
    secret: z.string().min(16).max(128).optional(),
  }),
);
export type Channel = z.infer<typeof storedChannel>;

/**
 * A bridge owner's own webhook, from their client record (never a stored channel): signed like a
 * generic webhook with the client's own secret, sent only through the SSRF guard (owner-webhook.ts).
 */
export type OwnerWebhook = {
  id: string;
  kind: 'owner_webhook';
  name: string;
  url: string;
  secret: string;
  enabled: true;
  created_at: string;
};

/** Whatever the notifier delivers to: an operator's channel or an owner's webhook. */
export type Target = Channel | OwnerWebhook;

/** Reads the stored list; entries that do not parse are dropped (the store is read as hostile). */
export function parseChannels(text: string | undefined): Channel[] {
  if (!text) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry) => {
    const parsed = storedChannel.safeParse(entry);
    return parsed.success ? [parsed.data] : [];
  });
}

const preview = (secret: string) => `${secret.slice(0, 4)}…${secret.slice(-2)}`;

/** A channel as the admin API shows it: secrets cut to a preview, webhook URLs to their origin. */
export function publicChannel(channel: Channel): Record<string, unknown> {
  const base = {
    id: channel.id,
    kind: channel.kind,
    name: channel.name,
    enabled: channel.enabled,
    created_at: channel.created_at,
  };
  switch (channel.kind) {
    case 'webhook':
      return { ...base, url: channel.url, secret_preview: channel.secret ? preview(channel.secret) : null };
    case 'slack':
    case 'discord':
      // The path of a Slack or Discord webhook URL is its credential.
      return { ...base, url: `${new URL(channel.url).origin}/…` };
    case 'telegram':
      return { ...base, chat_id: channel.chat_id, bot_token_preview: preview(channel.bot_token) };
    case 'email':
      return { ...base, to: channel.to };
  }
}
