// @ts-check
/**
 * DOM helpers: build elements (values always as text, never HTML), update text without
 * re-rendering, announce to screen readers, and keep one table row per item so that focus
 * survives a refresh.
 */

/**
 * The element with this id; throws when the page lacks it (a typo fails loudly, not later).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
export function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return /** @type {T} */ (node);
}

/** @typedef {Record<string, unknown>} Attrs */
/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * Creates an element: `attrs` sets properties/attributes (`class`, `text`, `on*` handlers,
 * `disabled`/`hidden`, anything else as an attribute).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = String(value);
    else if (name === 'text') node.textContent = String(value);
    else if (name.startsWith('on'))
      node.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else if (name === 'disabled' || name === 'hidden') /** @type {any} */ (node)[name] = Boolean(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, String(value));
  }
  return node;
}

/**
 * Sets the text only when it changed (no needless layout or screen-reader churn).
 * @param {Node} node
 * @param {string | null | undefined} text
 */
export function setText(node, text) {
  const value = text ?? '';
  if (node.textContent !== value) node.textContent = value;
}

/**
 * @param {string} text
 * @param {'' | 'ok' | 'warn' | 'bad' | 'info'} [tone]
 */
export function badge(text, tone = '') {
  return el('span', { class: `badge ${tone}`.trim(), text });
}

/** @param {string} message */
export function announce(message) {
  const region = $('announcer');
  region.textContent = '';
  // A fresh text node after a tick makes screen readers announce a repeated message too.
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/**
 * Comma-separated text as a list (trimmed, no empties).
 * @param {FormDataEntryValue | string | null} text
 */
export function splitList(text) {
  return String(text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * @template T
 * @typedef {{ tr: HTMLTableRowElement, update(item: T): void }} Row
 */

/** @type {WeakMap<HTMLTableSectionElement, Map<string, Row<any>>>} */
const rowsOf = new WeakMap();

/**
 * Keeps one row per item in `tbody`: new keys get a row from `create(item)`, existing rows are
 * updated in place, vanished ones removed, and the order follows `items`.
 * @template T
 * @param {HTMLTableSectionElement} tbody
 * @param {readonly T[]} items
 * @param {(item: T) => string} keyOf
 * @param {(item: T) => Row<T>} create
 */
export function syncRows(tbody, items, keyOf, create) {
  let rows = rowsOf.get(tbody);
  if (!rows) {
    rows = new Map();
    rowsOf.set(tbody, rows);
  }
  const seen = new Set();
  /** @type {ChildNode | null} */
  let previous = null;
  for (const item of items) {
    const key = keyOf(item);
    seen.add(key);
    let row = rows.get(key);
    if (!row) {
      row = create(item);
      rows.set(key, row);
    }
    row.update(item);
    /** @type {ChildNode | null} */
    const expected = previous ? previous.nextSibling : tbody.firstChild;
    if (expected !== row.tr) tbody.insertBefore(row.tr, expected);
    previous = row.tr;
  }
  for (const [key, row] of rows) {
    if (!seen.has(key)) {
      row.tr.remove();
      rows.delete(key);
    }
  }
}

/**
 * The first tbody of a table.
 * @param {string} tableId
 */
export function tbodyOf(tableId) {
  const body = /** @type {HTMLTableElement} */ ($(tableId)).tBodies[0];
  if (!body) throw new Error(`#${tableId} has no tbody`);
  return body;
}

/**
 * @template T
 * @typedef {((td: HTMLTableCellElement, item: T) => void) | { class: string, fill: (td: HTMLTableCellElement, item: T) => void }} Column
 */

/**
 * A row of plain cells, each filled by its column from the item (text only).
 * @template T
 * @param {Attrs} attrs
 * @param {Column<T>[]} columns
 * @param {HTMLTableCellElement} [head] a leading cell (a row header) left as it is
 * @returns {Row<T>}
 */
export function cellsRow(attrs, columns, head) {
  const filled = columns.map((column) =>
    typeof column === 'function'
      ? { td: el('td'), fill: column }
      : { td: el('td', { class: column.class }), fill: column.fill },
  );
  const tr = el('tr', attrs, head, ...filled.map((f) => f.td));
  return {
    tr,
    update(item) {
      for (const { td, fill } of filled) fill(td, item);
    },
  };
}

/**
 * A column that shows one text.
 * @template T
 * @param {(item: T) => string | null | undefined} text
 * @returns {(td: HTMLTableCellElement, item: T) => void}
 */
export const textCell = (text) => (td, item) => setText(td, text(item));

/**
 * A column that shows a time in the operator's locale, the instant itself as its title.
 * @template T
 * @param {(item: T) => string} at ISO 8601
 * @param {(iso: string) => string} [format] the date and time by default
 * @returns {(td: HTMLTableCellElement, item: T) => void}
 */
export const timeCell =
  (at, format = (iso) => new Date(iso).toLocaleString()) =>
  (td, item) => {
    const iso = at(item);
    setText(td, format(iso));
    td.title = iso;
  };

/**
 * Fills a cell of two lines: a name, and an id (mono) under it, each with its title (a narrow
 * column cuts them).
 * @param {HTMLTableCellElement} td
 * @param {string} name
 * @param {string} id
 */
export function fillName(td, name, id) {
  if (td.childElementCount !== 2)
    td.replaceChildren(el('div', { class: 'cell-main' }), el('div', { class: 'cell-sub mono' }));
  const [main, sub] = td.children;
  for (const [node, text] of /** @type {const} */ ([
    [main, name],
    [sub, id],
  ])) {
    if (!(node instanceof HTMLElement)) continue;
    setText(node, text);
    node.title = text;
  }
}

/**
 * A row's action button; its label (`aria-label`) names the row, set as the row updates.
 * @param {string} text
 * @param {'' | 'primary' | 'danger'} tone
 * @param {() => unknown} onclick
 */
export const rowButton = (text, tone, onclick) =>
  el('button', { type: 'button', class: `button small ${tone}`.trim(), text, onclick });

/**
 * `syncRows` on the table `tableId`, with its empty note shown when `items` is empty.
 * @template T
 * @param {string} tableId
 * @param {readonly T[]} items
 * @param {(item: T) => string} keyOf
 * @param {(item: T) => Row<T>} create
 */
export function syncTable(tableId, items, keyOf, create) {
  const empty = document.getElementById(tableId.replace(/-table$/, '-empty'));
  if (empty) empty.hidden = items.length > 0;
  syncRows(tbodyOf(tableId), items, keyOf, create);
}

/**
 * Saves `blob` as a download named `filename` (the object URL is released after a minute, long
 * enough for the browser to have read it).
 * @param {Blob} blob
 * @param {string} filename
 */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
