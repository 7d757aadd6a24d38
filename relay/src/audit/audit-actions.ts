/**
 * Which admin requests are actions, and their stable names. A mutating `/api` request that no
 * row names is still recorded (as `api.<method>` on its path), so a new admin route is audited
 * before anyone remembers to name it.
 */
import { isSecretFieldName, LOG_CENSOR } from '@arena-relay/shared';

type ActionRow = {
  method: string;
  /** Path pattern; `:name` segments match one segment and become the target. */
  path: string;
  action: string;
  /** Where the target comes from when the path names none: the answer's `<field>.id`. */
  targetFrom?: 'client' | 'key';
};

const ACTIONS: readonly ActionRow[] = [
  { method: 'POST', path: '/api/clients', action: 'client.register', targetFrom: 'client' },
  { method: 'PATCH', path: '/api/clients/:id', action: 'client.update' },
  { method: 'DELETE', path: '/api/clients/:id', action: 'client.delete' },
  { method: 'POST', path: '/api/clients/:id/rotate-token', action: 'client.rotate_token' },
  // A download issues a new client token: an action, though a GET.
  { method: 'GET', path: '/api/clients/:id/download', action: 'client.download' },
  { method: 'PUT', path: '/api/clients/:id/settings', action: 'client.settings' },
  { method: 'PUT', path: '/api/clients/:id/agent-update', action: 'client.update_policy' },
  { method: 'POST', path: '/api/keys', action: 'key.create', targetFrom: 'key' },
  { method: 'PATCH', path: '/api/keys/:id', action: 'key.update' },
  { method: 'DELETE', path: '/api/keys/:id', action: 'key.revoke' },
  // The health check probes every agent's bridge: no change, but an operator act that reaches agents.
  { method: 'POST', path: '/api/clients/health', action: 'agent.health_check' },
  { method: 'POST', path: '/api/agents/:id/drain', action: 'agent.drain' },
  { method: 'DELETE', path: '/api/agents/:id', action: 'agent.disconnect' },
  { method: 'PUT', path: '/api/aliases/:name', action: 'alias.set' },
  { method: 'DELETE', path: '/api/aliases/:name', action: 'alias.delete' },
  { method: 'POST', path: '/api/alerts/channels', action: 'alert_channel.create' },
  { method: 'PATCH', path: '/api/alerts/channels/:id', action: 'alert_channel.update' },
  { method: 'DELETE', path: '/api/alerts/channels/:id', action: 'alert_channel.delete' },
  { method: 'POST', path: '/api/alerts/channels/:id/test', action: 'alert_channel.test' },
];

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export type MatchedAction = { action: string; target: string | null; targetFrom?: 'client' | 'key' };

/** The action a request is, or undefined when it is a read. */
export function actionOf(method: string, path: string): MatchedAction | undefined {
  const segments = path.split('/');
  for (const row of ACTIONS) {
    if (row.method !== method) continue;
    const pattern = row.path.split('/');
    if (pattern.length !== segments.length) continue;
    let target: string | null = null;
    const fits = pattern.every((part, i) => {
      if (!part.startsWith(':')) return part === segments[i];
      target = decodeSegment(segments[i] ?? '');
      return target !== '';
    });
    if (fits)
      return { action: row.action, target, ...(row.targetFrom ? { targetFrom: row.targetFrom } : {}) };
  }
  if (!MUTATING.has(method)) return undefined;
  return { action: `api.${method.toLowerCase()}`, target: path.slice(0, 256) };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const MAX_STRING = 200;
const MAX_DEPTH = 4;
const MAX_FIELDS = 50;

/**
 * The change an action made, as recordable JSON: values of secret-named fields replaced by
 * `[redacted]`, strings cut to 200 characters and stripped of control characters, nesting and
 * width bounded. Anything not a JSON object is recorded as `{ "body": "<not JSON>" }`.
 */
export function redactChange(text: string): Record<string, unknown> | null {
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { body: '<not JSON>' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { body: clean(value, 0) };
  return clean(value, 0) as Record<string, unknown>;
}

/** A URL may carry a credential in its user part, path or query (Slack and Discord webhooks do): keep its origin. */
function cleanUrl(text: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return undefined;
  try {
    const url = new URL(text);
    return url.pathname === '/' && !url.search && !url.username ? url.origin : `${url.origin}/…`;
  } catch {
    return undefined;
  }
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') {
    const url = cleanUrl(value);
    if (url !== undefined) return url;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
    const text = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
    return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) return value.slice(0, MAX_FIELDS).map((v) => clean(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value).slice(0, MAX_FIELDS)) {
    out[name.slice(0, 64)] = isSecretFieldName(name) ? LOG_CENSOR : clean(field, depth + 1);
  }
  return out;
}
