/**
 * What the support bundle may say of the configuration: every setting, with the secret ones
 * (FIELDS `secret`: token, bridge key, proxy URL) replaced; and a last pass that blanks any secret
 * value wherever it still appears (a log line, a status answer), in the forms a URL or an
 * Authorization header would carry it.
 */
import type { ProxyEnv } from '../config/proxy-url.js';
import { parseProxyUrl, redactProxyUrl } from '../config/proxy-url.js';
import { type AgentConfig, FIELDS, type FieldName, type FieldSource } from '../config/schema.js';

export const REDACTED = '[redacted]';

/** A proxy address with its credentials masked; the whole value when it does not parse. */
function maskedProxy(value: string): string {
  const parsed = parseProxyUrl(value);
  return 'url' in parsed ? redactProxyUrl(new URL(parsed.url)) : REDACTED;
}

/** The config as config.jsonc names it, secrets replaced (a proxy keeps its masked address). */
export function redactedConfig(config: AgentConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(FIELDS) as FieldName[]) {
    const source: FieldSource = FIELDS[name];
    const value = config[name];
    if (value === undefined) continue;
    if (name === 'proxyUrl') out[source.file] = maskedProxy(String(value));
    else out[source.file] = source.secret ? REDACTED : value;
  }
  const env: ProxyEnv = {};
  for (const [key, value] of Object.entries(config.proxyEnv ?? {}) as [keyof ProxyEnv, string][]) {
    env[key] = /^no_proxy$/i.test(key) ? value : maskedProxy(value);
  }
  if (Object.keys(env).length > 0) out['environment proxies'] = env;
  return out;
}

/** The secret strings of `config` (and of proxies in its environment), in every form worth blanking. */
export function secretsOf(
  config: Partial<AgentConfig> | undefined,
  env: Record<string, string | undefined>,
): string[] {
  const raw = [config?.token, config?.upstreamApiKey, env.AGENT_TOKEN, env.AGENT_UPSTREAM_API_KEY];
  for (const value of [config?.proxyUrl, ...Object.values(config?.proxyEnv ?? {}), env.AGENT_PROXY_URL]) {
    if (value === undefined) continue;
    const parsed = parseProxyUrl(value);
    if (!('url' in parsed)) {
      raw.push(value);
      continue;
    }
    const url = new URL(parsed.url);
    if (!url.username && !url.password) continue;
    // The user name alone stays: blanking "admin" everywhere would hide more than it protects.
    raw.push(url.password, decodeURIComponent(url.password));
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    raw.push(pair, Buffer.from(pair).toString('base64'));
  }
  // Short values (a one-letter user name) would blank half the text and hide nothing worth hiding.
  const forms = raw.flatMap((value) =>
    value && value.length >= 4 ? [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)] : [],
  );
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each secret replaced by `[redacted]`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out;
}
