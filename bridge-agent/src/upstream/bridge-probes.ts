/**
 * The two probes readiness is made of: `GET /v1/models` (the process is up, and its model list)
 * and, while not ready, the dialect's serve probe (whether a chat could be served, and why not).
 * Each answers a verdict; readiness.ts decides what it means over time.
 */
import { type BridgeReasonCode, truncateChars } from '@arena-relay/shared';
import type { BridgeClient } from './bridge-client.js';
import { classifyNetworkError, errorDetail, readCapped, type UpstreamFailure } from './classify.js';

/** Model ids within the limits of the `hello`/`models` frames. */
function modelIds(json: unknown): string[] {
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  const ids = data
    .map((model) => (model as { id?: unknown } | null)?.id)
    .filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 256);
  return [...new Set(ids)].slice(0, 2048);
}

/** A probe's finding; `models` when the list was read, `connected` when the tab was seen. */
export type Verdict =
  | { ok: true; models?: string[]; connected?: boolean }
  | { ok: false; status?: number; reason: string; code: BridgeReasonCode };

const notReady = (failure: UpstreamFailure, fallback: BridgeReasonCode): Verdict => {
  const verdict: Verdict = {
    ok: false,
    reason: truncateChars(failure.message, 512),
    code: failure.reason ?? fallback,
  };
  if (failure.status !== undefined) verdict.status = failure.status;
  return verdict;
};

/** What `GET /v1/models` says: up (with the model list) or not, and why. */
export async function modelsVerdict(client: BridgeClient): Promise<Verdict> {
  try {
    const response = await client.models();
    const status = response.statusCode;
    if (status !== 200) {
      const text = await readCapped(response.body);
      const failure = client.dialect.classifyStatus(status, errorDetail(text), undefined, text);
      // No models at all (its 404) is the bridge's setup, not a request of ours.
      return notReady(failure, status === 404 ? 'bridge_misconfigured' : 'bridge_error');
    }
    const text = await readCapped(response.body, 4 * 1024 * 1024);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { ok: true, models: modelIds(json) };
  } catch (error) {
    return notReady({ ...classifyNetworkError(error), reason: 'bridge_down' }, 'bridge_down');
  }
}

/**
 * What the serve probe says while not ready: whether a chat could be served, and why not;
 * `connected` when the answer shows the userscript's tab is there.
 */
export async function servingVerdict(client: BridgeClient): Promise<Verdict> {
  try {
    const response = await client.serveProbe();
    const status = response.statusCode;
    const detail = errorDetail(await readCapped(response.body, 16 * 1024));
    // The array got past every check and failed on the first field read: the tab is there.
    if (status === 500 && detail === 'Internal Server Error') {
      return { ok: true, connected: true };
    }
    // A bridge that answers some other way (another version) cannot be judged: trust /v1/models.
    if (status !== 503 && status !== 401 && status !== 403) return { ok: true };
    return notReady(client.dialect.classifyStatus(status, detail), 'bridge_error');
  } catch (error) {
    return notReady({ ...classifyNetworkError(error), reason: 'bridge_down' }, 'bridge_down');
  }
}
