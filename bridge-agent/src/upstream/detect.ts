/**
 * `bridge: auto`: which bridge answers at upstream_url, from what it says to two cheap GETs (each
 * bounded by the probe timeout, bodies capped): CloudWaddie's `/api/v1/health` (always 200, with
 * `checks`), and `/v1/models` (v2.7.6 lists its models as owned by "LMArenaBridge" and answers in
 * FastAPI's `{"detail"}`; WebAI2API is an Express server on :3000; anything else that lists models
 * speaks plain OpenAI). Nothing is sent to LMArena.
 */
import type { BridgeClient } from './bridge-client.js';
import { readCapped } from './classify.js';
import { DIALECTS, type Dialect } from './dialects/index.js';

/** What detection found, and why (shown by `doctor` and in the log). */
export type Detection = { dialect: Dialect; evidence: string };

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; json: unknown };

/** One GET, its JSON (if any) read up to 256 KiB; undefined when nothing answered. */
async function get(client: BridgeClient, path: string): Promise<Answer | undefined> {
  try {
    const response = await client.probeGet(path);
    const text = await readCapped(response.body, 256 * 1024);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, json };
  } catch {
    return undefined;
  }
}

const header = (answer: Answer, name: string): string => String(answer.headers[name] ?? '');

function owners(json: unknown): string[] {
  const data = (json as { data?: unknown } | undefined)?.data;
  return Array.isArray(data)
    ? data.map((model) => String((model as { owned_by?: unknown })?.owned_by ?? ''))
    : [];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/**
 * Asks the bridge at `client`'s base URL which dialect it speaks. Undefined when nothing answered
 * at all (the bridge is down: ask again when it is back).
 */
export async function detectDialect(client: BridgeClient): Promise<Detection | undefined> {
  const [health, models] = await Promise.all([get(client, '/api/v1/health'), get(client, '/v1/models')]);
  if (!health && !models) return undefined;
  const cw = DIALECTS['lmarenabridge-cw'];
  if (health?.status === 200 && isObject(health.json) && isObject(health.json.checks)) {
    return {
      dialect: cw,
      evidence: `/api/v1/health answered "${String(health.json.status)}" with its checks`,
    };
  }
  if (!models) return { dialect: cw, evidence: 'only /api/v1/ answers' };
  const found = (dialect: Dialect, evidence: string): Detection => ({
    dialect,
    evidence: `/v1/models answered ${models.status}: ${evidence}`,
  });
  if (owners(models.json).some((owner) => /lmarena/i.test(owner))) {
    return found(DIALECTS['lmarenabridge-v2'], 'models owned by LMArenaBridge');
  }
  // v2.7.6 is FastAPI: `{"detail": …}` for its key check, its own Chinese text for no models.
  if (
    isObject(models.json) &&
    ('detail' in models.json || /models\.json/.test(JSON.stringify(models.json)))
  ) {
    return found(DIALECTS['lmarenabridge-v2'], 'FastAPI-style answer without /api/v1/health');
  }
  const port = new URL(client.baseUrl).port;
  if (
    /express/i.test(header(models, 'x-powered-by')) ||
    port === '3000' ||
    owners(models.json).some((o) => /webai/i.test(o))
  ) {
    return found(DIALECTS.webai2api, 'an Express server (WebAI2API)');
  }
  if (models.status === 200 || models.status === 401 || models.status === 403) {
    return found(DIALECTS.openai, 'an OpenAI-compatible server');
  }
  return found(DIALECTS['lmarenabridge-v2'], 'nothing recognisable; assuming LMArenaBridge v2.7.6');
}
