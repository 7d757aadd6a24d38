/**
 * `doctor`'s look at the bridge: its models route (`/v1/models`, CloudWaddie's `/api/v1/models`)
 * on upstream_url says whether it runs at all, and whether it takes the agent's key.
 */
import { BridgeClient } from '../upstream/bridge-client.js';
import { classifyNetworkError, errorDetail, readCapped } from '../upstream/classify.js';
import { DIALECTS, type Dialect } from '../upstream/dialects/index.js';
import { type CheckLine, fail, ok, warn } from './check-line.js';
import { BRIDGE_NAMES } from './dialect-check.js';

const WHAT = 'bridge reachable';

export type BridgeCheckInput = { baseUrl: string; apiKey?: string; timeoutMs: number; dialect?: Dialect };

/** The key fix in each bridge's own words. */
const KEY_FIX: Readonly<Record<Dialect['name'], string>> = {
  'lmarenabridge-v2': "set upstream_api_key in config.jsonc to the api_key in the bridge's config.jsonc",
  'lmarenabridge-cw':
    "set upstream_api_key in config.jsonc to one of the bridge's sk-lmab-… keys (its dashboard lists them)",
  webai2api: "set upstream_api_key in config.jsonc to WebAI2API's auth token",
  openai: "set upstream_api_key in config.jsonc to the server's API key",
};

/** One line for `GET /v1/models`; `reachable` says whether the serve probe is worth running. */
export async function checkBridge(input: BridgeCheckInput): Promise<{ line: CheckLine; reachable: boolean }> {
  const dialect = input.dialect ?? DIALECTS['lmarenabridge-v2'];
  const client = new BridgeClient({
    baseUrl: input.baseUrl,
    apiKey: input.apiKey,
    connections: 1,
    probeTimeoutMs: input.timeoutMs,
    dialect,
  });
  try {
    const res = await client.models();
    const text = await readCapped(res.body, 4 * 1024 * 1024);
    if (res.statusCode === 401 || res.statusCode === 403) {
      const line = fail(
        WHAT,
        `${input.baseUrl} refused the agent's key (${res.statusCode}: ${errorDetail(text).slice(0, 200)})`,
        input.apiKey ? KEY_FIX[dialect.name] : `the bridge wants a key: ${KEY_FIX[dialect.name]}`,
      );
      return { line, reachable: true };
    }
    if (res.statusCode !== 200) {
      const line = fail(
        WHAT,
        `${input.baseUrl}${client.pathOf('/v1/models')} answered ${res.statusCode}: ${errorDetail(text).slice(0, 200)}`,
        `check upstream_url: it must be ${BRIDGE_NAMES[dialect.name]}, and the bridge must list models`,
      );
      return { line, reachable: false };
    }
    let count = 0;
    try {
      const data = (JSON.parse(text) as { data?: unknown }).data;
      count = Array.isArray(data) ? data.length : 0;
    } catch {
      // counted as none: reported below
    }
    if (count === 0) {
      return {
        line: warn(
          WHAT,
          `${input.baseUrl} lists no models`,
          dialect.name === 'lmarenabridge-v2'
            ? "fill the bridge's models.json"
            : "let the bridge load its models (CloudWaddie's: refresh cf_clearance in its dashboard)",
        ),
        reachable: true,
      };
    }
    const listed = `${input.baseUrl} lists ${count} model${count === 1 ? '' : 's'}`;
    if (!input.apiKey && dialect.name === 'lmarenabridge-cw') {
      // It serves a request without a key as its first key: that key's rate limit, shared.
      return { line: warn(WHAT, `${listed}, but no key is set`, KEY_FIX[dialect.name]), reachable: true };
    }
    return { line: ok(WHAT, listed), reachable: true };
  } catch (error) {
    const said = classifyNetworkError(error).message;
    return {
      line: fail(
        WHAT,
        `${input.baseUrl}: ${said}`,
        `start ${BRIDGE_NAMES[dialect.name]} or fix upstream_url in config.jsonc`,
      ),
      reachable: false,
    };
  } finally {
    await client.close();
  }
}
