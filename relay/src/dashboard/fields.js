// @ts-check
/**
 * Form fields for the page's forms and dialogs (label tied to its input by id), and readers that
 * turn what was typed into the admin API's values, refusing bad input with a message.
 */
import { el } from './dom.js';

/**
 * A labelled field.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement} input (with an id)
 * @param {{ hint?: string, grow?: boolean }} [options]
 */
export function field(label, input, options = {}) {
  return el(
    'div',
    { class: options.grow ? 'field grow' : 'field' },
    el(
      'label',
      { for: input.id },
      label,
      options.hint ? el('span', { class: 'muted', text: ` (${options.hint})` }) : null,
    ),
    input,
  );
}

/**
 * A row of checkboxes named `name`, one per value, the `checked` ones ticked.
 * @param {string} legend
 * @param {string} name
 * @param {readonly string[]} values
 * @param {readonly string[]} checked
 */
export const checkboxes = (legend, name, values, checked) =>
  el(
    'fieldset',
    { class: 'field scopes' },
    el('legend', { text: legend }),
    ...values.map((value) =>
      el(
        'label',
        {},
        el('input', { type: 'checkbox', name, value, checked: checked.includes(value) }),
        ` ${value}`,
      ),
    ),
  );

/**
 * @param {string} id
 * @param {string} name
 * @param {Record<string, unknown>} [attrs]
 */
export const textInput = (id, name, attrs = {}) => el('input', { id, name, autocomplete: 'off', ...attrs });

/**
 * A whole-number input, empty for "none".
 * @param {string} id
 * @param {string} name
 * @param {number | null | undefined} value
 * @param {number} [min]
 */
export const numberInput = (id, name, value, min = 1) =>
  el('input', {
    id,
    name,
    type: 'number',
    min,
    step: 1,
    inputmode: 'numeric',
    value: value ?? '',
    class: 'num',
  });

/**
 * A select with `options` as [value, label] pairs.
 * @param {string} id
 * @param {string} name
 * @param {ReadonlyArray<readonly [string, string]>} options
 * @param {string} value
 */
export function selectInput(id, name, options, value) {
  const select = el(
    'select',
    { id, name },
    ...options.map(([v, label]) => el('option', { value: v, text: label })),
  );
  select.value = value;
  return select;
}

/**
 * A positive whole number from the form, or null when left empty.
 * @param {FormData} data
 * @param {string} name
 * @param {string} label for the message
 */
export function readCount(data, name, label) {
  const text = String(data.get(name) ?? '').trim();
  if (!text) return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${label}: a whole number of at least 1, or empty`);
  return value;
}

/** @typedef {'requests_per_minute' | 'requests_per_day' | 'max_concurrency' | 'tokens_per_day'} LimitName */
/** @typedef {ReadonlyArray<readonly [LimitName, string]>} LimitFields */

/**
 * The limits a key may carry, with their labels; a client's are the first three.
 * @type {LimitFields}
 */
export const LIMIT_FIELDS = [
  ['requests_per_minute', 'Requests per minute'],
  ['requests_per_day', 'Requests per day'],
  ['max_concurrency', 'Concurrent requests'],
  ['tokens_per_day', 'Tokens per day'],
];

/**
 * A fieldset of limit inputs (empty = no limit), ids `${prefix}-${name}`.
 * @param {string} prefix
 * @param {Partial<Record<LimitName, number | null>>} values
 * @param {LimitFields} [fields]
 */
export function limitsFieldset(prefix, values, fields = LIMIT_FIELDS) {
  return el(
    'fieldset',
    { class: 'limits' },
    el('legend', { text: 'Limits (empty: none)' }),
    ...fields.map(([name, label]) => field(label, numberInput(`${prefix}-${name}`, name, values[name]))),
  );
}

/**
 * The limits typed in a limitsFieldset, each a number or null (the API's "no limit").
 * @param {FormData} data
 * @param {LimitFields} [fields]
 * @returns {Partial<Record<LimitName, number | null>>}
 */
export function readLimits(data, fields = LIMIT_FIELDS) {
  return Object.fromEntries(fields.map(([name, label]) => [name, readCount(data, name, label)]));
}
