// @ts-check
/** Aliases: names consumers may use as a model, each standing for models tried in order. */
import { act, api, messageOf, seg } from './api.js';
import { $, announce, el, rowButton, setText, splitList, syncTable } from './dom.js';
import { hooks, state } from './state.js';

export async function refresh() {
  state.aliases = (await api('GET', 'api/aliases')).aliases;
}

/** @param {string} name */
async function deleteAlias(name) {
  await act(() => api('DELETE', `api/aliases/${seg(name)}`), `Alias ${name} deleted`);
  await refresh();
  hooks.render();
}

export function render() {
  const rows = Object.entries(state.aliases).map(([name, models]) => ({ name, models }));
  syncTable(
    'aliases-table',
    rows,
    (a) => a.name,
    (initial) => {
      const name = el('td', { class: 'mono' });
      const models = el('td', { class: 'mono wrap' });
      const remove = rowButton('Delete', 'danger', () => deleteAlias(initial.name));
      remove.setAttribute('aria-label', `Delete the alias ${initial.name}`);
      const tr = el(
        'tr',
        { 'data-alias': initial.name },
        name,
        models,
        el('td', { class: 'actions' }, remove),
      );
      return {
        tr,
        /** @param {{ name: string, models: string[] }} a */
        update(a) {
          setText(name, a.name);
          setText(models, a.models.join(' → '));
        },
      };
    },
  );
}

/** @param {SubmitEvent} event */
async function saveAlias(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const data = new FormData(form);
  const name = String(data.get('name') ?? '').trim();
  const models = splitList(data.get('models'));
  setText($('alias-error'), '');
  try {
    await api('PUT', `api/aliases/${seg(name)}`, { models });
    form.reset();
    await refresh();
    hooks.render();
    announce(`Alias ${name} saved`);
  } catch (error) {
    setText($('alias-error'), messageOf(error));
  }
}

export function init() {
  $('alias-form').addEventListener('submit', saveAlias);
}
