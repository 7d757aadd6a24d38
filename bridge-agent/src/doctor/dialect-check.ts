/**
 * `doctor`'s look at which bridge answers at upstream_url: the dialect `bridge: auto` finds (or
 * the configured one, and whether the bridge there agrees), and for CloudWaddie's bridge what its
 * own health checks say (cf_clearance, models loaded).
 */
import type { AgentConfig } from '../config/schema.js';
import { BridgeClient } from '../upstream/bridge-client.js';
import { readCapped } from '../upstream/classify.js';
import { detectDialect } from '../upstream/detect.js';
import { DIALECTS, type Dialect } from '../upstream/dialects/index.js';
import { type CheckLine, ok, warn } from './check-line.js';

const WHAT = 'bridge dialect';

/** What each dialect's owner runs, for the fix texts. */
export const BRIDGE_NAMES: Readonly<Record<Dialect['name'], string>> = {
  'lmarenabridge-v2': 'LMArenaBridge v2.7.6 (python api_server.py, port 5102)',
  'lmarenabridge-cw': "CloudWaddie's LMArenaBridge (port 8000)",
  webai2api: 'WebAI2API (port 3000)',
  openai: 'your OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio)',
};

/** The dialect doctor checks the bridge with, and its lines. */
export async function checkDialect(
  config: AgentConfig,
  timeoutMs: number,
): Promise<{ dialect: Dialect; lines: CheckLine[] }> {
  const client = new BridgeClient({
    baseUrl: config.upstreamUrl,
    apiKey: config.upstreamApiKey,
    connections: 1,
    probeTimeoutMs: timeoutMs,
  });
  try {
    const found = await detectDialect(client);
    const lines: CheckLine[] = [];
    let dialect: Dialect;
    if (config.bridge === 'auto') {
      dialect = found?.dialect ?? DIALECTS['lmarenabridge-v2'];
      lines.push(
        found
          ? ok(WHAT, `${dialect.name} (bridge: auto; ${found.evidence})`)
          : warn(
              WHAT,
              'cannot tell: nothing answers at upstream_url',
              'start the bridge, then run doctor again',
            ),
      );
    } else {
      dialect = DIALECTS[config.bridge];
      lines.push(
        found && found.dialect !== dialect
          ? warn(
              WHAT,
              `${dialect.name} is set, but the bridge looks like ${found.dialect.name} (${found.evidence})`,
              `set bridge to ${found.dialect.name} or auto in config.jsonc, unless you are sure`,
            )
          : ok(WHAT, `${dialect.name} (set in config)`),
      );
    }
    if (dialect.name === 'lmarenabridge-cw') {
      client.dialect = dialect;
      const health = await cloudwaddieHealth(client);
      if (health) lines.push(health);
    }
    return { dialect, lines };
  } finally {
    await client.close();
  }
}

/** CloudWaddie's `/api/v1/health`: always 200; "degraded" names what its dashboard must fix. */
async function cloudwaddieHealth(client: BridgeClient): Promise<CheckLine | undefined> {
  try {
    const res = await client.probeGet('/api/v1/health');
    const json = JSON.parse(await readCapped(res.body, 64 * 1024)) as {
      status?: unknown;
      checks?: Record<string, unknown>;
    };
    const checks = json.checks ?? {};
    const failing = Object.entries(checks)
      .filter(([, value]) => value === false || value === 0)
      .map(([name]) => name);
    if (json.status === 'healthy' && failing.length === 0) return ok('bridge health', 'healthy');
    return warn(
      'bridge health',
      `${String(json.status)}${failing.length ? `: ${failing.join(', ')} failing` : ''}`,
      "open the bridge's dashboard (http://127.0.0.1:8000) and refresh cf_clearance / the auth token; health never tells whether a chat works",
    );
  } catch {
    return undefined;
  }
}
