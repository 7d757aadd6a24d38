// @ts-check
/**
 * Clients: register a bridge client, and per client download its package, rotate its token,
 * disable or enable it, and open its settings (client-settings.js).
 */
/** @import { ClientRecord } from './types.js' */
import { act, api, messageOf, request, seg } from './api.js';
import { editClientSettings } from './client-settings.js';
import { showWebhookSecret } from './client-webhook.js';
import { confirmThenAct, showSecret } from './dialogs.js';
import { $, announce, badge, el, fillName, rowButton, saveBlob, setText, syncTable } from './dom.js';
import { fmtAgo, fmtInt, fmtPct } from './format.js';
import { hooks, state } from './state.js';
import { requestsLink } from './tab-requests.js';

export async function refresh() {
  state.clients = (await api('GET', 'api/clients')).clients;
}

/** @type {Record<string, 'ok' | 'info' | 'bad'>} */
const STATUS_TONE = { active: 'ok', pending: 'info', disabled: 'bad' };
/** @type {Record<string, '' | 'ok' | 'warn' | 'bad'>} */
const HEALTH_TONE = { healthy: 'ok', degraded: 'warn', unhealthy: 'bad', unknown: '' };

/** @param {string} clientId */
const liveAgentsOf = (clientId) => state.agents.filter((a) => a.client_id === clientId).length;

/** @param {ClientRecord} client */
async function downloadPackage(client) {
  const response = await confirmThenAct(
    {
      title: `Download the package of ${client.name}?`,
      text:
        'The package carries a fresh client token, because the relay keeps only a hash of the current one. ' +
        "Downloading it retires the current token after the relay's grace period (CREDENTIAL_GRACE_SECONDS, 5 minutes by default): an agent of this client still running with it keeps serving until then, then stops and must be given the new package.",
      confirmLabel: 'Download and replace the token',
    },
    () => request('GET', `api/clients/${seg(client.id)}/download`),
    `Package of ${client.name} downloaded; its previous token is retired after the grace period`,
  );
  if (!response) return;
  // The relay flags a package its agent would dial in clear, or could not reach from elsewhere.
  const warning = response.headers.get('x-package-warning');
  const notice = $('package-warning');
  notice.hidden = !warning;
  setText(notice, warning ? `Package of ${client.name}: ${warning}` : '');
  const blob = await response.blob();
  const disposition = response.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `arena-agent-${client.id}.zip`;
  saveBlob(blob, filename);
}

/** @param {ClientRecord} client */
async function rotateToken(client) {
  const result = await confirmThenAct(
    {
      title: `Rotate the token of ${client.name}?`,
      text: "A new token replaces the current one, which keeps working for the relay's grace period (5 minutes by default); then agents still using it are disconnected. After a leak, cut it off at once with the admin API: POST /api/clients/{id}/rotate-token?grace_seconds=0.",
      confirmLabel: 'Rotate token',
      danger: true,
    },
    () => api('POST', `api/clients/${seg(client.id)}/rotate-token`),
    `Token of ${client.name} rotated`,
  );
  if (result) {
    await showSecret({
      title: `New token for ${client.name}`,
      text: "Put it in the agent's config.jsonc (platform_integration.api_key), or download the package again instead.",
      value: result.token,
    });
  }
}

/** @param {ClientRecord} client */
async function toggleClient(client) {
  const disable = client.status !== 'disabled';
  const patch = () =>
    api('PATCH', `api/clients/${seg(client.id)}`, { status: disable ? 'disabled' : 'active' });
  if (!disable) return act(patch, `${client.name} enabled`);
  return confirmThenAct(
    {
      title: `Disable ${client.name}?`,
      text: 'Its agents are disconnected now and refused until the client is enabled again.',
      confirmLabel: 'Disable',
      danger: true,
    },
    patch,
    `${client.name} disabled`,
  );
}

/** @param {ClientRecord} initial */
function createClientRow(initial) {
  let current = initial;
  const name = el('td');
  const status = el('td');
  const agents = el('td');
  const requests = requestsLink('client', initial.id, `Requests of ${initial.name}`);
  const seen = el('td');
  const token = el('td', { class: 'mono' });
  const download = rowButton('Download', 'primary', () => downloadPackage(current));
  const settings = rowButton('Settings', '', () => editClientSettings(current).catch(hooks.reportError));
  const rotate = rowButton('Rotate token', '', () => rotateToken(current));
  const toggle = rowButton('', '', () => toggleClient(current));
  const tr = el(
    'tr',
    { 'data-client': initial.id },
    name,
    status,
    agents,
    el('td', {}, requests),
    seen,
    token,
    el('td', { class: 'actions' }, download, settings, rotate, toggle),
  );
  let shown = '';
  return {
    tr,
    /** @param {ClientRecord} client */
    update(client) {
      current = client;
      fillName(name, client.name, client.email ? `${client.id} · ${client.email}` : client.id);
      const key = `${client.status}/${client.health}`;
      if (key !== shown) {
        shown = key;
        status.replaceChildren(
          badge(client.status, STATUS_TONE[client.status] ?? ''),
          ' ',
          badge(client.health, HEALTH_TONE[client.health] ?? ''),
        );
      }
      const connected = client.agents_connected ?? liveAgentsOf(client.id);
      const ready = client.agents_ready ?? connected;
      setText(agents, ready === connected ? String(connected) : `${connected} · ${ready} ready`);
      // The one success rate (metrics/figures.ts): ok / (ok + failed); consumer errors are in neither.
      const judged = client.successful_requests + client.failed_requests;
      setText(
        requests,
        judged === 0
          ? fmtInt(client.total_requests)
          : `${fmtInt(client.total_requests)} · ${fmtPct(client.successful_requests / judged)} ok`,
      );
      setText(seen, fmtAgo(client.last_seen));
      setText(token, client.token_preview);
      const disabled = client.status === 'disabled';
      setText(toggle, disabled ? 'Enable' : 'Disable');
      toggle.className = `button small ${disabled ? '' : 'danger'}`.trim();
      download.setAttribute('aria-label', `Download the package of ${client.name}`);
      settings.setAttribute('aria-label', `Settings of ${client.name}`);
      rotate.setAttribute('aria-label', `Rotate the token of ${client.name}`);
      toggle.setAttribute('aria-label', `${disabled ? 'Enable' : 'Disable'} ${client.name}`);
    },
  };
}

export function render() {
  syncTable('clients-table', state.clients, (c) => c.id, createClientRow);
}

/** @param {SubmitEvent} event */
async function registerClient(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const data = new FormData(form);
  /** @type {{ name: string, email?: string, webhook_url?: string, lmarena_bridge_url?: string }} */
  const body = { name: String(data.get('name') ?? '').trim() };
  for (const field of /** @type {const} */ (['email', 'webhook_url', 'lmarena_bridge_url'])) {
    const value = String(data.get(field) ?? '').trim();
    if (value) body[field] = value;
  }
  const error = $('client-error');
  setText(error, '');
  if (!body.name) {
    setText(error, 'A name is required.');
    $('client-name').focus();
    return;
  }
  try {
    const created = await api('POST', 'api/clients', body);
    form.reset();
    await refresh();
    hooks.render();
    announce(`Client ${created.client.name} registered`);
    await showSecret({
      title: `${created.client.name} is registered`,
      text: 'Its client token is below. The simplest way to hand it over is "Download package" in the list, which builds a ready-to-run agent with a fresh token.',
      value: created.token,
    });
    if (created.webhook_secret) await showWebhookSecret(created.client.name, created.webhook_secret);
  } catch (failure) {
    setText(error, messageOf(failure));
  }
}

export function init() {
  $('client-form').addEventListener('submit', registerClient);
}
