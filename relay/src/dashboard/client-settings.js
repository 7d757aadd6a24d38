// @ts-check
/**
 * A client's settings in one dialog: its name, owner e-mail, owner alert webhook
 * (client-webhook.js) and bridge URL and the limits the relay enforces on it
 * (`PATCH /api/clients/{id}`), what the relay pushes to its agents (`/api/clients/{id}/settings`:
 * streams per agent, models offered only or hidden, log level), its update policy
 * (`/api/clients/{id}/agent-update`), and deleting it. Each part is written only when it changed,
 * so the audit log shows what the operator did, not what the form held.
 */
/** @import { ClientRecord, ClientSettings, LogLevel, UpdatePolicy } from './types.js' */
import { api, seg } from './api.js';
import { readWebhook, showWebhookSecret, webhookFields } from './client-webhook.js';
import { closeFormDialog, confirmThenAct, formDialog } from './dialogs.js';
import { announce, el, splitList } from './dom.js';
import {
  field,
  LIMIT_FIELDS,
  limitsFieldset,
  numberInput,
  readCount,
  readLimits,
  selectInput,
  textInput,
} from './fields.js';
import { hooks } from './state.js';

/**
 * The agent's log levels (`LOG_LEVELS` in shared/src/config.ts); empty: the agent's own.
 * @type {readonly LogLevel[]}
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** @type {ReadonlyArray<readonly [keyof ClientRecord['rate_limit'], string]>} */
const CLIENT_LIMITS = LIMIT_FIELDS.flatMap(([name, label]) =>
  name === 'tokens_per_day' ? [] : [/** @type {const} */ ([name, label])],
);

/**
 * What the form says, as the settings API takes it (absent fields: the agent's own value).
 * @param {FormData} data
 * @returns {ClientSettings}
 */
function readSettings(data) {
  /** @type {ClientSettings} */
  const settings = {};
  const streams = readCount(data, 'streams_per_agent', 'Streams per agent');
  if (streams !== null) settings.max_concurrency = streams;
  const only = splitList(data.get('only'));
  const hide = splitList(data.get('hide'));
  if (only.length || hide.length)
    settings.models = { ...(only.length ? { only } : {}), ...(hide.length ? { hide } : {}) };
  const level = String(data.get('log_level') ?? '');
  if (level) settings.log_level = level;
  return settings;
}

/**
 * @param {FormData} data
 * @returns {UpdatePolicy}
 */
function readPolicy(data) {
  const mode = String(data.get('update_mode') ?? 'auto');
  if (mode === 'off') return { mode: 'off' };
  if (mode !== 'pin') return { mode: 'auto' };
  const version = String(data.get('update_version') ?? '').trim();
  if (!version) throw new Error('Pinned version: name the version to stay on, e.g. 0.2.0');
  return { mode: 'pin', version };
}

/**
 * The client's own fields as a PATCH (empty e-mail or URL: cleared), with only what changed.
 * @param {FormData} data
 * @param {ClientRecord} client
 * @returns {Record<string, unknown>}
 */
function readDetails(data, client) {
  /** @param {string} name */
  const text = (name) => String(data.get(name) ?? '').trim();
  /** @type {Record<string, unknown>} */
  const patch = { ...readWebhook(data, client) };
  if (text('client_name') !== client.name) patch.name = text('client_name');
  if ((text('client_email') || null) !== client.email) patch.email = text('client_email') || null;
  if ((text('client_bridge') || null) !== client.lmarena_bridge_url)
    patch.lmarena_bridge_url = text('client_bridge') || null;
  const limits = readLimits(data, CLIENT_LIMITS);
  if (CLIENT_LIMITS.some(([name]) => limits[name] !== client.rate_limit[name])) patch.rate_limit = limits;
  return patch;
}

/** @param {ClientRecord} client */
async function deleteClient(client) {
  closeFormDialog();
  await confirmThenAct(
    {
      title: `Delete ${client.name}?`,
      text: 'Its agents are disconnected now and its token stops working for good. This cannot be undone.',
      confirmLabel: 'Delete client',
      danger: true,
    },
    () => api('DELETE', `api/clients/${seg(client.id)}`),
    `Client ${client.name} deleted`,
  );
}

/**
 * Opens the settings dialog of `client`; resolves when it closes.
 * @param {ClientRecord} client
 */
export async function editClientSettings(client) {
  const base = `api/clients/${seg(client.id)}`;
  /** @type {[{ settings: ClientSettings }, { policy: UpdatePolicy, shipped: { version: string } | null }]} */
  const [{ settings }, update] = await Promise.all([
    api('GET', `${base}/settings`),
    api('GET', `${base}/agent-update`),
  ]);
  const mode = selectInput(
    'cs-update-mode',
    'update_mode',
    [
      ['auto', 'Update to what this relay ships'],
      ['pin', 'Stay on one version'],
      ['off', 'Never update'],
    ],
    update.policy.mode,
  );
  const version = textInput('cs-update-version', 'update_version', {
    maxlength: 64,
    placeholder: update.shipped?.version ?? '0.2.0',
    value: update.policy.mode === 'pin' ? update.policy.version : '',
  });
  const versionField = field('Pinned version', version);
  const syncMode = () => {
    versionField.hidden = mode.value !== 'pin';
  };
  mode.addEventListener('change', syncMode);
  syncMode();

  const fields = [
    el(
      'fieldset',
      { class: 'group' },
      el('legend', { text: 'Client' }),
      field(
        'Name',
        textInput('cs-name', 'client_name', { value: client.name, required: true, maxlength: 200 }),
        { grow: true },
      ),
      field(
        'Owner e-mail',
        textInput('cs-email', 'client_email', { type: 'email', value: client.email ?? '' }),
        { grow: true },
      ),
      ...webhookFields(client),
      field(
        'LMArenaBridge URL',
        textInput('cs-bridge', 'client_bridge', { type: 'url', value: client.lmarena_bridge_url ?? '' }),
        { grow: true },
      ),
    ),
    limitsFieldset('cs', client.rate_limit, CLIENT_LIMITS),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', { text: 'Pushed to its agents' }),
      el('p', {
        class: 'muted small',
        text: 'Applied without a restart; empty fields leave the agent its own value.',
      }),
      field(
        'Streams per agent',
        numberInput('cs-streams-per-agent', 'streams_per_agent', settings.max_concurrency),
      ),
      field(
        'Agent log level',
        selectInput(
          'cs-log-level',
          'log_level',
          [['', "The agent's own"], ...LOG_LEVELS.map((l) => /** @type {const} */ ([l, l]))],
          settings.log_level ?? '',
        ),
      ),
      field(
        'Offer only these models',
        textInput('cs-only', 'only', {
          value: settings.models?.only?.join(', ') ?? '',
          placeholder: 'gpt-5, claude-opus-4',
        }),
        { hint: 'comma-separated', grow: true },
      ),
      field(
        'Hide these models',
        textInput('cs-hide', 'hide', { value: settings.models?.hide?.join(', ') ?? '' }),
        {
          hint: 'comma-separated',
          grow: true,
        },
      ),
    ),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', { text: 'Agent updates' }),
      el('p', {
        class: 'muted small',
        text: update.shipped
          ? `This relay ships agent ${update.shipped.version}.`
          : 'This relay ships no agent bundle.',
      }),
      field('Update policy', mode),
      versionField,
    ),
    el(
      'div',
      { class: 'danger-zone' },
      el('button', {
        type: 'button',
        class: 'button danger',
        text: 'Delete this client…',
        onclick: () => deleteClient(client).catch(hooks.reportError),
      }),
    ),
  ];

  /** @type {string | undefined} a new webhook secret the PATCH answered */
  let webhookSecret;
  const saved = await formDialog({
    title: `Settings of ${client.name}`,
    fields,
    save: async (data) => {
      const next = readSettings(data);
      const policy = readPolicy(data);
      const details = readDetails(data, client);
      const writes = [];
      if (JSON.stringify(next) !== JSON.stringify(settings))
        writes.push(api('PUT', `${base}/settings`, next));
      if (JSON.stringify(policy) !== JSON.stringify(update.policy))
        writes.push(api('PUT', `${base}/agent-update`, policy));
      if (Object.keys(details).length)
        writes.push(api('PATCH', base, details).then((r) => (webhookSecret = r.webhook_secret)));
      await Promise.all(writes);
    },
  });
  // A secret issued by a save whose other writes failed is shown too: it is the webhook's now.
  if (!saved && !webhookSecret) return;
  await hooks.refreshCommon();
  hooks.render();
  if (saved) announce(`Settings of ${client.name} saved`);
  if (webhookSecret) await showWebhookSecret(client.name, webhookSecret);
}
