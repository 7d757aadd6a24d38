// @ts-check
/**
 * API keys: create one (scopes, allowed models, expiry, limits; the key is shown once), and per
 * key edit the same fields or revoke it.
 */
/** @import { ApiKeyRecord, ApiKeyScope } from './types.js' */
import { api, messageOf, seg } from './api.js';
import { confirmThenAct, formDialog, showSecret } from './dialogs.js';
import { $, announce, badge, el, fillName, rowButton, setText, splitList, syncTable } from './dom.js';
import { checkboxes, field, limitsFieldset, readLimits, textInput } from './fields.js';
import { fmtAgo, fmtDate, fmtInt, fmtLimits, fmtList } from './format.js';
import { hooks, state } from './state.js';
import { requestsLink } from './tab-requests.js';

export async function refresh() {
  state.keys = (await api('GET', `api/keys${state.showRevoked ? '?include_revoked=true' : ''}`)).keys;
}

/** @param {string} keyId */
export const keyStats = (keyId) => state.stats?.keys.find((k) => k.key_id === keyId);

/**
 * The fields both forms share, read from `data`: allowed models (empty: all), expiry (empty:
 * never) and limits (empty: none).
 * @param {FormData} data
 */
function readKeyFields(data) {
  const models = splitList(data.get('allowed_models'));
  const expires = String(data.get('expires_at') ?? '').trim();
  return {
    allowed_models: models.length ? models : null,
    // A datetime-local value is the operator's local time; the API wants an instant.
    expires_at: expires ? new Date(expires).toISOString() : null,
    limits: readLimits(data),
  };
}

/** @param {string | null} iso as a datetime-local value, in local time */
function localInput(iso) {
  if (!iso) return '';
  const at = new Date(iso);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/**
 * Every scope a key may have (the relay's API_KEY_SCOPES: the type-check fails when one is
 * missing here), and whether a new key gets it.
 * @type {Readonly<Record<ApiKeyScope, boolean>>}
 */
const SCOPE_DEFAULTS = {
  chat: true,
  messages: true,
  responses: true,
  models: true,
  images: true,
  admin: false,
};
const SCOPES = Object.keys(SCOPE_DEFAULTS);

/** @param {ApiKeyRecord} key */
async function editKey(key) {
  // Any scope the key has that this page does not know yet is kept, so that saving never drops one.
  const scopes = checkboxes('Scopes', 'scope', [...new Set([...SCOPES, ...key.scopes])], key.scopes);
  const saved = await formDialog({
    title: `Edit the key ${key.name}`,
    fields: [
      field('Name', textInput('edit-key-name', 'name', { value: key.name, required: true, maxlength: 200 }), {
        grow: true,
      }),
      scopes,
      field(
        'Allowed models',
        textInput('edit-key-models', 'allowed_models', {
          value: key.allowed_models?.join(', ') ?? '',
          placeholder: 'all models',
        }),
        { hint: 'comma-separated; empty: all', grow: true },
      ),
      field(
        'Expires',
        textInput('edit-key-expires', 'expires_at', {
          type: 'datetime-local',
          value: localInput(key.expires_at),
        }),
        {
          hint: 'empty: never',
        },
      ),
      limitsFieldset('edit-key', key.limits),
    ],
    save: async (data) => {
      const chosen = data.getAll('scope').map(String);
      if (chosen.length === 0) throw new Error('Pick at least one scope.');
      const { expires_at, ...rest } = readKeyFields(data);
      /** @type {Record<string, unknown>} */
      const patch = { name: String(data.get('name') ?? '').trim(), scopes: chosen, ...rest };
      // An unchanged expiry is not sent: one already past would be refused as "not in the future".
      if (expires_at !== key.expires_at && localInput(expires_at) !== localInput(key.expires_at))
        patch.expires_at = expires_at;
      await api('PATCH', `api/keys/${seg(key.id)}`, patch);
    },
  });
  if (saved) {
    announce(`Key ${key.name} saved`);
    await refresh();
    hooks.render();
  }
}

/** @param {ApiKeyRecord} key */
const revokeKey = (key) =>
  confirmThenAct(
    {
      title: `Revoke ${key.name}?`,
      text: 'Requests with this key are refused from now on. This cannot be undone.',
      confirmLabel: 'Revoke key',
      danger: true,
    },
    () => api('DELETE', `api/keys/${seg(key.id)}`),
    `Key ${key.name} revoked`,
  );

/** @param {ApiKeyRecord} initial */
function createKeyRow(initial) {
  let current = initial;
  const name = el('td');
  const preview = el('td', { class: 'mono' });
  const scopes = el('td');
  const models = el('td', { class: 'mono wrap' });
  const limits = el('td', { class: 'wrap' });
  const requests = requestsLink('key', initial.id, `Requests with the key ${initial.name}`);
  const created = el('td');
  const used = el('td');
  const edit = rowButton('Edit', '', () => editKey(current));
  const revoke = rowButton('Revoke', 'danger', () => revokeKey(current));
  const tr = el(
    'tr',
    { 'data-key': initial.id },
    name,
    preview,
    scopes,
    models,
    limits,
    el('td', {}, requests),
    created,
    used,
    el('td', { class: 'actions' }, edit, revoke),
  );
  let shownScopes = '';
  return {
    tr,
    /** @param {ApiKeyRecord} key */
    update(key) {
      current = key;
      fillName(
        name,
        key.name,
        key.revoked
          ? `${key.id} · revoked`
          : key.expires_at
            ? `${key.id} · expires ${fmtDate(key.expires_at)}`
            : key.id,
      );
      tr.classList.toggle('revoked', key.revoked);
      // A revoked key can no longer change.
      edit.hidden = key.revoked;
      revoke.hidden = key.revoked;
      setText(preview, key.preview);
      if (shownScopes !== key.scopes.join()) {
        shownScopes = key.scopes.join();
        scopes.replaceChildren(
          ...key.scopes.flatMap((s, i) => [i > 0 ? ' ' : '', badge(s, s === 'admin' ? 'warn' : 'info')]),
        );
      }
      // Up to 1 000 models: the cell shows a few, its title all of them.
      setText(models, key.allowed_models ? fmtList(key.allowed_models) : 'all');
      models.title = key.allowed_models?.join(', ') ?? '';
      setText(limits, fmtLimits(key.limits));
      setText(requests, fmtInt(keyStats(key.id)?.day.requests ?? 0));
      setText(created, fmtDate(key.created_at));
      setText(used, fmtAgo(key.last_used_at));
      edit.setAttribute('aria-label', `Edit the key ${key.name}`);
      revoke.setAttribute('aria-label', `Revoke the key ${key.name}`);
    },
  };
}

export function render() {
  syncTable('keys-table', state.keys, (k) => k.id, createKeyRow);
}

/** @param {SubmitEvent} event */
async function createKey(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const data = new FormData(form);
  const name = String(data.get('name') ?? '').trim();
  const scopes = data.getAll('scope').map(String);
  const error = $('key-error');
  setText(error, '');
  if (!name) {
    setText(error, 'A name is required.');
    $('key-name').focus();
    return;
  }
  if (scopes.length === 0) {
    setText(error, 'Pick at least one scope.');
    return;
  }
  try {
    const created = await api('POST', 'api/keys', { name, scopes, ...readKeyFields(data) });
    form.reset();
    await refresh();
    hooks.render();
    announce(`Key ${name} created`);
    await showSecret({
      title: `API key "${name}"`,
      text: "Give it to the consumer: it goes in Authorization: Bearer … (or the OpenAI SDK's api_key).",
      value: created.key,
    });
  } catch (failure) {
    setText(error, messageOf(failure));
  }
}

export function init() {
  $('key-form').addEventListener('submit', createKey);
  $('key-scopes').replaceWith(
    checkboxes(
      'Scopes',
      'scope',
      SCOPES,
      SCOPES.filter((s) => SCOPE_DEFAULTS[/** @type {ApiKeyScope} */ (s)]),
    ),
  );
  $('key-limits').replaceChildren(limitsFieldset('key', {}));
  $('keys-revoked').addEventListener('change', async (event) => {
    state.showRevoked = /** @type {HTMLInputElement} */ (event.currentTarget).checked;
    await refresh().then(hooks.render, hooks.reportError);
  });
}
