/**
 * Can the bridge serve a chat right now? LMArenaBridge checks, in order: the JSON body, its API
 * key, a Cloudflare refresh in progress, the userscript's connection — and only then reads the
 * request. A JSON array passes every one of those checks and then fails on the first field read
 * (a plain-text 500), so it tells "the tab is connected" without sending anything to LMArena.
 * A 503 with a `detail` is the bridge saying why it cannot serve.
 *
 * One function behind one type, so the agent's own classifier of bridge answers can take its
 * place.
 */
import { request } from 'undici';
import { errorDetail, readCapped } from '../upstream/classify.js';
import { type CheckLine, fail, ok, warn } from './check-line.js';

export type ServeProbeInput = { baseUrl: string; apiKey?: string; timeoutMs: number };
export type ServeProbe = (input: ServeProbeInput) => Promise<CheckLine>;

const WHAT = 'bridge can serve';

/** The bridge's own texts (LMArenaBridge v2.7.6) for the two states an owner fixes in the browser. */
const TAB_NOT_CONNECTED = '油猴脚本客户端未连接';
const CLOUDFLARE_CHECK = '人机验证';

export const probeServing: ServeProbe = async (input) => {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (input.apiKey) headers.authorization = `Bearer ${input.apiKey}`;
  let status: number;
  let detail: string;
  try {
    const res = await request(`${input.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: '[]',
      headersTimeout: input.timeoutMs,
      bodyTimeout: input.timeoutMs,
    });
    status = res.statusCode;
    detail = errorDetail(await readCapped(res.body, 16 * 1024));
  } catch (error) {
    return fail(WHAT, `no answer to a chat request (${(error as Error).message})`, 'restart LMArenaBridge');
  }
  if (status === 500 && detail === 'Internal Server Error') return ok(WHAT, 'the userscript is connected');
  if (status === 503 && detail.includes(TAB_NOT_CONNECTED)) {
    return fail(
      WHAT,
      `the userscript is not connected (503: ${detail})`,
      "open arena.ai in the browser with the userscript enabled and keep the tab open; if it has never connected, v2.7.6's userscript only matches lmarena.ai (now arena.ai): add `// @match https://arena.ai/*` to it, or move to CloudWaddie's LMArenaBridge",
    );
  }
  if (status === 503 && detail.includes(CLOUDFLARE_CHECK)) {
    return fail(
      WHAT,
      `a Cloudflare check is running (503: ${detail})`,
      'open the arena.ai tab and pass the check ("Verify you are human"); the bridge serves again a few seconds later',
    );
  }
  if (status === 401) {
    return fail(
      WHAT,
      `the bridge refused the agent's key (401: ${detail})`,
      "set upstream_api_key in config.jsonc to the api_key in the bridge's config.jsonc",
    );
  }
  if (status === 503)
    return fail(
      WHAT,
      `the bridge cannot serve (503: ${detail})`,
      "look at the arena.ai tab and the bridge's window",
    );
  return warn(
    WHAT,
    `unexpected answer to a probe (${status}: ${detail.slice(0, 200)})`,
    'is upstream_url really LMArenaBridge? a chat through the relay will tell',
  );
};
