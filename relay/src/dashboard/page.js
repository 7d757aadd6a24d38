// @ts-check
/**
 * The page's repeated markup, built once at start from what index.html declares: the tab bar
 * from the list of tabs, each table's head, scroller and empty note from its `data-head` and
 * `data-empty`, each form field's label from its input's `data-label`, each form's error line,
 * and each card's name from its heading. index.html says what is there; this module says once
 * how each kind of thing is marked up.
 */
import { $, el } from './dom.js';
import { field } from './fields.js';
import { TAB_LABELS, TABS } from './state.js';

/** The tab bar, one tab per panel, each panel labelled by its tab (`selectTab` shows the chosen one). */
function buildTabs() {
  for (const tab of TABS) {
    const panel = $(`panel-${tab}`);
    panel.setAttribute('role', 'tabpanel');
    panel.setAttribute('aria-labelledby', `tab-${tab}`);
    panel.hidden = tab !== 'overview';
  }
  $('tablist').replaceChildren(
    ...TABS.map((tab) =>
      el('button', {
        type: 'button',
        role: 'tab',
        id: `tab-${tab}`,
        'aria-controls': `panel-${tab}`,
        'aria-selected': String(tab === 'overview'),
        tabindex: tab === 'overview' ? 0 : -1,
        text: TAB_LABELS[tab],
      }),
    ),
  );
}

/**
 * Builds every `table[data-head]` of the page: its head (the column names, `|`-separated; an
 * empty one is the actions column, named for screen readers only), a body for `syncRows`, a
 * scroller around it, and after it the note `data-empty` says when it has no rows
 * (`#<name>-empty` for `#<name>-table`).
 */
function buildTables() {
  for (const table of document.querySelectorAll('table[data-head]')) {
    const names = (table.getAttribute('data-head') ?? '').split('|');
    const cells = names.map((name) =>
      el('th', { scope: 'col' }, name || el('span', { class: 'sr-only', text: 'Actions' })),
    );
    table.append(el('thead', {}, el('tr', {}, cells)), el('tbody'));
    const wrap = el('div', { class: 'table-wrap' });
    table.replaceWith(wrap);
    wrap.append(table);
    const empty = table.getAttribute('data-empty');
    if (empty)
      wrap.after(el('p', { class: 'empty', id: table.id.replace(/-table$/, '-empty'), text: empty }));
  }
}

/** Names each card of the page by its heading, for screen readers' lists of regions. */
function nameCards() {
  for (const [i, card] of [...document.querySelectorAll('section.card')].entries()) {
    const heading = card.querySelector('h2');
    if (!heading) continue;
    heading.id ||= `card-title-${i}`;
    card.setAttribute('aria-labelledby', heading.id);
  }
}

/**
 * Labels the page's own form inputs as `field` labels the dialogs' ones: each
 * `<input data-label="…">` (or select) becomes a field, with `data-hint` as its hint and
 * `data-grow` to take the row's free width. A field that shows only for some choices carries
 * `data-kinds`, which moves to the field. A form's `data-error` is the id of the line after it
 * that says why it was refused.
 */
function buildFields() {
  // A form names its error line: read by screen readers as it changes, hidden while empty.
  for (const form of document.querySelectorAll('form[data-error]')) {
    form.after(el('p', { class: 'error', id: form.getAttribute('data-error'), role: 'alert' }));
  }
  for (const input of document.querySelectorAll('form [data-label]')) {
    if (!(input instanceof HTMLInputElement || input instanceof HTMLSelectElement)) continue;
    const { label = '', hint, grow, kinds } = input.dataset;
    const placeholder = el('span');
    input.replaceWith(placeholder);
    const wrapped = field(label, input, { hint, grow: grow !== undefined });
    if (kinds) wrapped.dataset.kinds = kinds;
    placeholder.replaceWith(wrapped);
  }
}

/** Builds all of the above; app.js calls it once, before any tab draws. */
export function buildPage() {
  buildTabs();
  buildTables();
  nameCards();
  buildFields();
}
