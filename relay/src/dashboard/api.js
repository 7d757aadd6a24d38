// @ts-check
/**
 * The admin JSON API, with the operator's token. A refused token signs the operator out; any
 * other failure throws an ApiError carrying the relay's own message.
 */
import { announce } from './dom.js';
import { hooks, state } from './state.js';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * @typedef {object} ApiOptions
 * @property {boolean} [login] a 401 is the answer, not a reason to sign out
 * @property {number[]} [accept] failure statuses whose JSON is an answer too (a failed test alert's 502)
 */

/**
 * Calls the admin API and answers its JSON.
 * @param {'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
 * @param {string} path relative to the page (`api/…`)
 * @param {unknown} [body]
 * @param {ApiOptions} [options]
 * @returns {Promise<any>}
 */
export async function api(method, path, body, options = {}) {
  const response = await request(method, path, body, options);
  return response.json();
}

/**
 * As `api`, answering the response itself (downloads).
 * @param {'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {ApiOptions} [options]
 */
export async function request(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
    cache: 'no-store',
  });
  if (response.ok || options.accept?.includes(response.status)) return response;
  let message = `${response.status} ${response.statusText}`;
  try {
    const json = await response.json();
    if (json?.error?.message) message = json.error.message;
  } catch {
    // Not JSON: keep the status line.
  }
  if (response.status === 401 && !options.login)
    hooks.signOut('Your session was refused by the relay: sign in again.');
  throw new ApiError(response.status, message);
}

/** @param {unknown} error */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs an admin action, announces the outcome and refreshes what it changed; answers the
 * action's result, or undefined when it failed (the failure is announced and shown as stale).
 * @template T
 * @param {() => Promise<T>} run
 * @param {string} success
 * @returns {Promise<T | undefined>}
 */
export async function act(run, success) {
  try {
    const result = await run();
    announce(success);
    await hooks.refreshCommon();
    hooks.render();
    return result;
  } catch (error) {
    announce(`Failed: ${messageOf(error)}`);
    hooks.markLive(false, messageOf(error));
    return undefined;
  }
}

/**
 * A path segment for an id from the API.
 * @param {string} id
 */
export const seg = (id) => encodeURIComponent(id);
