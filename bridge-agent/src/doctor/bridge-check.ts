/** `doctor`'s look at LMArenaBridge: `GET /v1/models` on upstream_url says whether it runs at all. */
import { BridgeClient } from '../upstream/bridge-client.js';
import { classifyNetworkError, errorDetail, readCapped } from '../upstream/classify.js';
import { type CheckLine, fail, ok, warn } from './check-line.js';

const WHAT = 'bridge reachable';

export type BridgeCheckInput = { baseUrl: string; apiKey?: string; timeoutMs: number };

/** One line for `GET /v1/models`; `reachable` says whether the serve probe is worth running. */
export async function checkBridge(input: BridgeCheckInput): Promise<{ line: CheckLine; reachable: boolean }> {
  const client = new BridgeClient({
    baseUrl: input.baseUrl,
    apiKey: input.apiKey,
    connections: 1,
    probeTimeoutMs: input.timeoutMs,
  });
  try {
    const res = await client.models();
    const text = await readCapped(res.body, 4 * 1024 * 1024);
    if (res.statusCode === 401 || res.statusCode === 403) {
      const line = fail(
        WHAT,
        `${input.baseUrl} refused the agent's key (${res.statusCode}: ${errorDetail(text)})`,
        "set upstream_api_key in config.jsonc to the api_key in the bridge's config.jsonc",
      );
      return { line, reachable: true };
    }
    if (res.statusCode !== 200) {
      const line = fail(
        WHAT,
        `${input.baseUrl}/v1/models answered ${res.statusCode}: ${errorDetail(text).slice(0, 200)}`,
        'check upstream_url: it must be LMArenaBridge (default http://127.0.0.1:5102), and its models.json must list models',
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
        line: warn(WHAT, `${input.baseUrl} lists no models`, "fill the bridge's models.json"),
        reachable: true,
      };
    }
    return {
      line: ok(WHAT, `${input.baseUrl} lists ${count} model${count === 1 ? '' : 's'}`),
      reachable: true,
    };
  } catch (error) {
    const said = classifyNetworkError(error).message;
    return {
      line: fail(
        WHAT,
        `${input.baseUrl}: ${said}`,
        'start LMArenaBridge (python api_server.py) or fix upstream_url in config.jsonc',
      ),
      reachable: false,
    };
  } finally {
    await client.close();
  }
}
