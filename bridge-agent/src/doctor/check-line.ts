/** One line of `doctor`'s report: a status, what was checked, what was found, and the fix in words. */
import { stripControls } from '@arena-relay/shared';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export type CheckLine = {
  status: CheckStatus;
  /** What was checked, a few words ("relay certificate"). */
  what: string;
  /** What was found. */
  detail: string;
  /** What to do about it; only for warn and fail. */
  fix?: string;
};

export const ok = (what: string, detail: string): CheckLine => ({ status: 'ok', what, detail });
export const warn = (what: string, detail: string, fix: string): CheckLine => ({
  status: 'warn',
  what,
  detail,
  fix,
});
export const fail = (what: string, detail: string, fix: string): CheckLine => ({
  status: 'fail',
  what,
  detail,
  fix,
});

/**
 * `fail  token: the relay refused it (401 invalid_client_token) -> download the package again`.
 * Details quote the relay's and the bridge's own words: control characters are stripped, so no
 * escape sequence can rewrite this line, or the one above, into an "ok".
 */
export function formatLine(line: CheckLine): string {
  const fix = line.fix ? ` -> ${stripControls(line.fix)}` : '';
  return `${line.status.padEnd(4)}  ${stripControls(line.what)}: ${stripControls(line.detail)}${fix}`;
}
