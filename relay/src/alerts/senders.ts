/**
 * One alert to one channel, once: the request each kind of receiver expects. Retries are the
 * notifier's. Every send is bounded in time, and a receiver's answer is never read beyond its
 * status (a hostile or broken receiver cannot make the relay buffer its body).
 */
import { createHmac } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import { type Alert, plainText } from './alert.js';
import type { Target } from './channels.js';
import { type OwnerWebhookContext, postToOwner } from './owner-webhook.js';

export type SendContext = {
  /** Base URL of the Telegram Bot API (tests point it at a local server). */
  telegramApi: string;
  /** The SMTP transport, when SMTP_URL is set. */
  mail: (() => Transporter) | undefined;
  /** `From:` of alert emails. */
  mailFrom: string;
  /** Per attempt, ms. */
  timeoutMs: number;
  /** What owners' webhooks may be and reach (default: https:// to public addresses only). */
  ownerWebhook?: OwnerWebhookContext | undefined;
};

export type SendResult = { ok: true; status?: number } | { ok: false; status?: number; error: string };

const STRICT: OwnerWebhookContext = { allowHttp: false, allowPrivate: false };

/** Longest message chat services take (Discord's content limit is 2 000, Telegram's 4 096). */
const CHAT_MAX = 1900;

/**
 * A generic webhook's body and headers: `x-arena-signature: sha256=<hex HMAC-SHA256 of
 * "<x-arena-timestamp>.<body>" under the secret>`.
 */
export function signedWebhook(
  alert: Alert,
  secret: string,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(alert);
  const timestamp = String(Math.floor(Date.parse(alert.at) / 1000));
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return {
    body,
    headers: {
      'x-arena-event': alert.kind,
      'x-arena-timestamp': timestamp,
      'x-arena-signature': `sha256=${signature}`,
    },
  };
}

export async function send(channel: Target, alert: Alert, context: SendContext): Promise<SendResult> {
  const text = plainText(alert);
  switch (channel.kind) {
    case 'webhook': {
      const { body, headers } = signedWebhook(alert, channel.secret ?? '');
      return post(channel.url, body, context, headers);
    }
    case 'owner_webhook': {
      const { body, headers } = signedWebhook(alert, channel.secret);
      return postToOwner(channel.url, body, headers, context.ownerWebhook ?? STRICT, context.timeoutMs);
    }
    case 'slack':
      return post(channel.url, JSON.stringify({ text: cut(text) }), context);
    case 'discord':
      return post(
        channel.url,
        JSON.stringify({ content: cut(text), allowed_mentions: { parse: [] } }),
        context,
      );
    case 'telegram':
      return post(
        `${context.telegramApi}/bot${channel.bot_token}/sendMessage`,
        JSON.stringify({ chat_id: channel.chat_id, text: cut(text), disable_web_page_preview: true }),
        context,
      );
    case 'email': {
      if (!context.mail) return { ok: false, error: 'SMTP_URL is not set: this relay cannot send email' };
      try {
        await withTimeout(
          context.mail().sendMail({
            from: context.mailFrom,
            to: channel.to,
            subject: alert.title,
            text,
          }),
          context.timeoutMs,
        );
        return { ok: true };
      } catch (error) {
        return { ok: false, error: (error as Error).message.slice(0, 300) };
      }
    }
  }
}

const cut = (text: string) => (text.length > CHAT_MAX ? `${text.slice(0, CHAT_MAX)}…` : text);

async function post(
  url: string,
  body: string,
  context: SendContext,
  headers: Record<string, string> = {},
): Promise<SendResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'arena-relay-alerts', ...headers },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(context.timeoutMs),
    });
    await res.body?.cancel();
    return res.ok
      ? { ok: true, status: res.status }
      : { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, error: cause ?? (error as Error).name ?? 'request failed' };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the SMTP server in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
