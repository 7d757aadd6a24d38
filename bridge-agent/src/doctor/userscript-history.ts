/**
 * `doctor` for v2.7.6: has the userscript ever connected? The serve probe says whether it is
 * connected now; the running agent (its status server on 127.0.0.1) knows whether a chat was ever
 * served since it started, and calls a tab that never connected for minutes `userscript_outdated`
 * (v2.7.6's userscript only matches lmarena.ai, which now redirects to arena.ai).
 */
import { BRIDGE_REASON_FIXES } from '@arena-relay/shared';
import { request } from 'undici';
import { readCapped } from '../upstream/classify.js';
import { type CheckLine, fail, ok, warn } from './check-line.js';

const WHAT = 'userscript history';

async function getJson(url: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await readCapped(res.body, 64 * 1024);
    if (res.statusCode !== 200) return undefined;
    const json: unknown = JSON.parse(text);
    return typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A line when the agent runs with its status server on `statusPort`; undefined when it does not. */
export async function checkUserscriptHistory(
  statusPort: number,
  timeoutMs: number,
): Promise<CheckLine | undefined> {
  if (statusPort <= 0) return undefined;
  const base = `http://127.0.0.1:${statusPort}`;
  const [status, stats] = await Promise.all([
    getJson(`${base}/platform/status`, timeoutMs),
    getJson(`${base}/stats`, timeoutMs),
  ]);
  if (!status || !stats) return undefined;
  const served = typeof stats.successes === 'number' ? stats.successes : 0;
  if (status.ready_code === 'userscript_outdated') {
    return fail(
      WHAT,
      'the running agent has never seen the userscript connect',
      BRIDGE_REASON_FIXES.userscript_outdated,
    );
  }
  if (served > 0)
    return ok(WHAT, `the running agent has served ${served} request${served === 1 ? '' : 's'} through it`);
  return warn(
    WHAT,
    'the running agent has served nothing through it yet',
    'send one chat through the relay; if the tab never connects, see the userscript_outdated fix (arena.ai @match)',
  );
}
