// @ts-check
/**
 * A client owner's alert webhook (`webhook_url`) in the client's settings: its URL, read as a
 * PATCH only when it changed (empty: removed, `null`) or a new signing secret is asked for, and
 * the secret the relay answers (`webhook_secret`) shown once, as registering a client does.
 */
/** @import { ClientRecord } from './types.js' */
import { showSecret } from './dialogs.js';
import { el } from './dom.js';
import { field, textInput } from './fields.js';

/**
 * The webhook's fields, filled with the client's current URL.
 * @param {ClientRecord} client
 */
export const webhookFields = (client) => [
  field(
    'Owner alert webhook',
    textInput('cs-webhook', 'client_webhook', {
      type: 'url',
      maxlength: 2048,
      placeholder: 'https://…',
      value: client.webhook_url ?? '',
    }),
    { hint: 'https; empty: none', grow: true },
  ),
  el(
    'label',
    { class: 'field' },
    el('input', { type: 'checkbox', id: 'cs-webhook-renew', name: 'webhook_renew' }),
    ' Issue a new signing secret',
  ),
];

/**
 * The PATCH part for the webhook: a changed URL (a new secret comes with it), the same one again
 * when a new secret is asked for, null to remove it; nothing otherwise.
 * @param {FormData} data
 * @param {ClientRecord} client
 * @returns {{ webhook_url?: string | null }}
 */
export function readWebhook(data, client) {
  const url = String(data.get('client_webhook') ?? '').trim() || null;
  if (url !== client.webhook_url || (url && data.has('webhook_renew'))) return { webhook_url: url };
  return {};
}

/**
 * Shows a webhook's new signing secret once.
 * @param {string} clientName
 * @param {string} secret
 */
export const showWebhookSecret = (clientName, secret) =>
  showSecret({
    title: `Alert webhook secret of ${clientName}`,
    text: "Give it to the owner: their webhook checks each alert's x-arena-signature with it. It is not shown again (ask for a new one in the client's settings).",
    value: secret,
  });
