// @ts-check
/**
 * Alerts: the channels alerts go to (add one of each kind, enable or disable, delete, send a
 * test) and this relay's delivery log. A webhook's signing secret is shown once, when added.
 */
/** @import { Channel, Delivery } from './types.js' */
import { act, api, messageOf, seg } from './api.js';
import { confirmThenAct, showSecret } from './dialogs.js';
import {
  $,
  announce,
  badge,
  cellsRow,
  el,
  rowButton,
  setText,
  splitList,
  syncTable,
  textCell,
  timeCell,
} from './dom.js';
import { fmtDate } from './format.js';
import { hooks, state } from './state.js';

export async function refresh() {
  const [channels, deliveries] = await Promise.all([
    api('GET', 'api/alerts/channels'),
    api('GET', 'api/alerts/deliveries'),
  ]);
  state.channels = channels.channels;
  state.deliveries = deliveries.deliveries;
}

async function refreshAndRender() {
  await refresh();
  hooks.render();
}

/** Where a channel sends, as far as the API shows it (secrets are previews). @param {Channel} c */
function destination(c) {
  switch (c.kind) {
    case 'telegram':
      return `chat ${c.chat_id ?? '?'} · bot ${c.bot_token_preview ?? '?'}`;
    case 'email':
      return (c.to ?? []).join(', ');
    case 'webhook':
      return c.secret_preview ? `${c.url} · signed ${c.secret_preview}` : (c.url ?? '');
    default:
      return c.url ?? '';
  }
}

/** @param {Channel} channel */
async function sendTest(channel) {
  const result = $('alert-test-result');
  setText(result, `Sending a test to ${channel.name}…`);
  try {
    // A failed delivery is a 502 whose body still says what happened.
    /** @type {{ delivery?: Delivery }} */
    const { delivery } = await api('POST', `api/alerts/channels/${seg(channel.id)}/test`, undefined, {
      accept: [502],
    });
    const text =
      delivery?.state === 'delivered'
        ? `Test to ${channel.name}: delivered${delivery.status ? ` (HTTP ${delivery.status})` : ''}.`
        : `Test to ${channel.name}: failed${delivery?.error ? ` — ${delivery.error}` : ''}.`;
    setText(result, text);
    result.className = delivery?.state === 'delivered' ? 'small ok-text' : 'small bad-text';
    announce(text);
  } catch (error) {
    setText(result, `Test to ${channel.name}: ${messageOf(error)}`);
    result.className = 'small bad-text';
  }
  await refreshAndRender().catch(hooks.reportError);
}

/** @param {Channel} channel */
async function toggleChannel(channel) {
  await act(
    () => api('PATCH', `api/alerts/channels/${seg(channel.id)}`, { enabled: !channel.enabled }),
    `${channel.name} ${channel.enabled ? 'disabled' : 'enabled'}`,
  );
  await refreshAndRender().catch(hooks.reportError);
}

/** @param {Channel} channel */
async function deleteChannel(channel) {
  await confirmThenAct(
    {
      title: `Delete the channel ${channel.name}?`,
      text: 'Alerts stop going there at once. Adding it again gives a webhook a new signing secret.',
      confirmLabel: 'Delete channel',
      danger: true,
    },
    () => api('DELETE', `api/alerts/channels/${seg(channel.id)}`),
    `Channel ${channel.name} deleted`,
  );
  await refreshAndRender().catch(hooks.reportError);
}

/** @param {Channel} initial */
function createChannelRow(initial) {
  let current = initial;
  const test = rowButton('Send test', '', () => sendTest(current));
  const toggle = rowButton('', '', () => toggleChannel(current));
  const remove = rowButton('Delete', 'danger', () => deleteChannel(current));
  const row = cellsRow({ 'data-channel': initial.id }, [
    textCell((c) => c.name),
    textCell((c) => c.kind),
    { class: 'mono wrap', fill: textCell(destination) },
    (td, c) => {
      const label = c.enabled ? 'Enabled' : 'Disabled';
      if (td.textContent !== label) td.replaceChildren(badge(label, c.enabled ? 'ok' : ''));
    },
    textCell((c) => fmtDate(c.created_at)),
  ]);
  row.tr.append(el('td', { class: 'actions' }, test, toggle, remove));
  return {
    tr: row.tr,
    /** @param {Channel} channel */
    update(channel) {
      current = channel;
      row.update(channel);
      setText(toggle, channel.enabled ? 'Disable' : 'Enable');
      test.setAttribute('aria-label', `Send a test alert to ${channel.name}`);
      toggle.setAttribute(
        'aria-label',
        `${channel.enabled ? 'Disable' : 'Enable'} the channel ${channel.name}`,
      );
      remove.setAttribute('aria-label', `Delete the channel ${channel.name}`);
    },
  };
}

/** @type {Record<Delivery['state'], 'ok' | 'warn' | 'bad'>} */
const DELIVERY_TONE = { delivered: 'ok', pending: 'warn', failed: 'bad' };

export function render() {
  syncTable('channels-table', state.channels, (c) => c.id, createChannelRow);
  syncTable(
    'deliveries-table',
    state.deliveries,
    // One entry per alert and channel, updated in place as retries happen.
    (d) => `${d.alert_id}/${d.channel_id}`,
    () =>
      cellsRow({}, [
        timeCell((d) => d.at),
        textCell((d) => `${d.channel_name} (${d.channel_kind})`),
        {
          class: 'mono',
          fill: textCell((d) => (d.alert_kind === d.rule ? d.rule : `${d.alert_kind} · ${d.rule}`)),
        },
        (td, d) => {
          if (td.textContent !== d.state) td.replaceChildren(badge(d.state, DELIVERY_TONE[d.state]));
        },
        textCell((d) => String(d.attempts)),
        {
          class: 'wrap',
          fill: textCell(
            (d) => [d.status ? `HTTP ${d.status}` : '', d.error ?? ''].filter(Boolean).join(' · ') || '—',
          ),
        },
      ]),
  );
}

/** Shows the fields the chosen kind takes, and only those. */
function showKindFields() {
  const kind = /** @type {HTMLSelectElement} */ ($('channel-kind')).value;
  for (const node of document.querySelectorAll('#channel-form [data-kinds]')) {
    if (node instanceof HTMLElement) node.hidden = !(node.dataset.kinds ?? '').split(' ').includes(kind);
  }
}

/**
 * The body `POST /api/alerts/channels` takes for the chosen kind.
 * @param {FormData} data
 */
function channelBody(data) {
  const kind = String(data.get('kind') ?? '');
  const name = String(data.get('name') ?? '').trim();
  /** @param {string} field */
  const text = (field) => String(data.get(field) ?? '').trim();
  if (kind === 'telegram') return { kind, name, bot_token: text('bot_token'), chat_id: text('chat_id') };
  if (kind === 'email') return { kind, name, to: splitList(data.get('to')) };
  return { kind, name, url: text('url') };
}

/** @param {SubmitEvent} event */
async function addChannel(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const error = $('channel-error');
  setText(error, '');
  const body = channelBody(new FormData(form));
  if (!body.name) {
    setText(error, 'A name is required.');
    $('channel-name').focus();
    return;
  }
  // One at a time: the form is emptied when the relay has answered.
  const submit = form.querySelector('button[type="submit"]');
  submit?.toggleAttribute('disabled', true);
  try {
    const created = await api('POST', 'api/alerts/channels', body);
    form.reset();
    showKindFields();
    await refreshAndRender();
    announce(`Channel ${body.name} added`);
    if (created.secret) {
      await showSecret({
        title: `Signing secret of ${body.name}`,
        text: 'The relay signs each alert it posts with this secret (HMAC-SHA256 in x-arena-signature): give it to the receiver to check them.',
        value: created.secret,
      });
    }
  } catch (failure) {
    setText(error, messageOf(failure));
  } finally {
    submit?.toggleAttribute('disabled', false);
  }
}

export function init() {
  $('channel-form').addEventListener('submit', addChannel);
  $('channel-kind').addEventListener('change', showKindFields);
  showKindFields();
}
