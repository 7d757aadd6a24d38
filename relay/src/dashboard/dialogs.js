// @ts-check
/**
 * The page's three dialogs: confirm an action, show a secret once, and edit a form (key limits,
 * client settings). Each resolves when it closes and leaves nothing behind (listeners removed,
 * fields cleared), so the next use starts clean.
 */
import { act, messageOf } from './api.js';
import { $, announce, setText } from './dom.js';

/**
 * Opens the confirm dialog; resolves true when the operator confirms.
 * @param {{ title: string, text: string, confirmLabel?: string, danger?: boolean }} options
 * @returns {Promise<boolean>}
 */
export function confirmAction({ title, text, confirmLabel = 'Confirm', danger = false }) {
  const dialog = /** @type {HTMLDialogElement} */ ($('confirm-dialog'));
  const ok = $('confirm-ok');
  const cancel = $('confirm-cancel');
  setText($('confirm-title'), title);
  setText($('confirm-text'), text);
  ok.textContent = confirmLabel;
  ok.className = `button ${danger ? 'danger' : 'primary'}`;
  return new Promise((resolve) => {
    /** @param {boolean} value */
    const finish = (value) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onCancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onOk = () => finish(true);
    const onCancel = () => finish(false);
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('close', onCancel);
    dialog.showModal();
    // The safe choice has the focus.
    cancel.focus();
  });
}

/**
 * Asks first, then runs the admin action as `act` does; answers its result, or undefined when
 * the operator said no or it failed.
 * @template T
 * @param {{ title: string, text: string, confirmLabel?: string, danger?: boolean }} question
 * @param {() => Promise<T>} run
 * @param {string} success
 * @returns {Promise<T | undefined>}
 */
export async function confirmThenAct(question, run, success) {
  return (await confirmAction(question)) ? act(run, success) : undefined;
}

/**
 * Shows a secret once (new key, new token, a webhook's signing secret); resolves when closed.
 * @param {{ title: string, text: string, value: string }} options
 * @returns {Promise<void>}
 */
export function showSecret({ title, text, value }) {
  const dialog = /** @type {HTMLDialogElement} */ ($('secret-dialog'));
  const input = /** @type {HTMLInputElement} */ ($('secret-value'));
  const copy = $('secret-copy');
  const done = $('secret-done');
  setText($('secret-title'), title);
  setText($('secret-text'), text);
  input.value = value;
  copy.textContent = 'Copy';
  return new Promise((resolve) => {
    const onCopy = async () => {
      try {
        await navigator.clipboard.writeText(value);
      } catch {
        input.select();
        document.execCommand('copy');
      }
      copy.textContent = 'Copied';
      announce('Copied to the clipboard');
    };
    const onDone = () => dialog.close();
    const onClose = () => {
      copy.removeEventListener('click', onCopy);
      done.removeEventListener('click', onDone);
      dialog.removeEventListener('close', onClose);
      input.value = '';
      resolve();
    };
    copy.addEventListener('click', onCopy);
    done.addEventListener('click', onDone);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    input.focus();
    input.select();
  });
}

/**
 * Opens the form dialog with `fields`; on submit runs `save` with the form's data and closes
 * when it succeeds, or shows its error and stays open. Resolves true when saved.
 * @param {{ title: string, fields: Node[], submitLabel?: string, save: (data: FormData) => Promise<void> }} options
 * @returns {Promise<boolean>}
 */
export function formDialog({ title, fields, submitLabel = 'Save', save }) {
  const dialog = /** @type {HTMLDialogElement} */ ($('form-dialog'));
  const form = /** @type {HTMLFormElement} */ ($('form-dialog-form'));
  const box = $('form-dialog-fields');
  const error = $('form-dialog-error');
  const submit = $('form-dialog-submit');
  const cancel = $('form-dialog-cancel');
  setText($('form-dialog-title'), title);
  setText(submit, submitLabel);
  setText(error, '');
  box.replaceChildren(...fields);
  let saved = false;
  return new Promise((resolve) => {
    /** @param {SubmitEvent} event */
    const onSubmit = async (event) => {
      event.preventDefault();
      setText(error, '');
      submit.toggleAttribute('disabled', true);
      try {
        await save(new FormData(form));
        saved = true;
        dialog.close();
      } catch (failure) {
        setText(error, messageOf(failure));
      } finally {
        submit.toggleAttribute('disabled', false);
      }
    };
    const onCancel = () => dialog.close();
    const onClose = () => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onClose);
      // Its labels must not linger: the next form may use the same ones.
      box.replaceChildren();
      resolve(saved);
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    const first = box.querySelector('input, select');
    if (first instanceof HTMLElement) first.focus();
  });
}

/** Closes the form dialog as Cancel would (for an action in it that opens another dialog). */
export function closeFormDialog() {
  const dialog = /** @type {HTMLDialogElement} */ ($('form-dialog'));
  if (dialog.open) dialog.close();
}
