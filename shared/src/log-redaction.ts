/**
 * What the relay's and the agent's logs never show, in one list for both (two lists diverged:
 * the relay's missed `upstreamApiKey`, the agent's `key` and `x-api-key`). Plain data and one
 * string function: each program builds its own pino root from it (relay/src/log/logger.ts,
 * bridge-agent/src/logging.ts), shared/ stays free of pino.
 */

/** What a redacted value is replaced by. */
export const LOG_CENSOR = '[redacted]';

/**
 * pino `redact` paths: secret-named fields at the top of a log object and one level down, and
 * the headers that carry credentials. Path rules, not a scan: pino compiles them once.
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  ...[
    'token',
    'key',
    'apiKey',
    'api_key',
    'adminToken',
    'upstreamApiKey',
    'authorization',
    'password',
    'secret',
  ].flatMap((name) => [name, `*.${name}`]),
  ...['headers', 'req.headers', '*.headers'].flatMap((at) => [
    `${at}.authorization`,
    `${at}["proxy-authorization"]`,
    `${at}["x-api-key"]`,
    `${at}.cookie`,
  ]),
];

const SECRET_NAME =
  /(^|_|-)(token|secret|password|passwd|authorization|cookie|signature|private_?key)$|api[_-]?key|^key$/i;

/**
 * Whether a field called `name` holds a secret, in snake_case, kebab-case or camelCase
 * (`admin_token`, `x-api-key`, `adminToken`): the rule for records walked field by field (the
 * audit log); every name in LOG_REDACT_PATHS satisfies it.
 */
export function isSecretFieldName(name: string): boolean {
  return SECRET_NAME.test(name.replace(/([a-z0-9])([A-Z])/g, '$1_$2'));
}

/**
 * Secrets that stand inside text (a message, an error, a URL field) rather than in a field of
 * their own: the user part of any URL (`http://user:pass@proxy:8080`, `redis://:pass@host`), and
 * the path of a Slack, Discord or Telegram webhook URL, which is itself the credential. The
 * scheme is bounded, so that a run like `a.a.a.…` stays linear.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)[^\s"'/?#@\\]+@/gi;
const WEBHOOK_PATH =
  /\b(hooks\.slack\.com\/services\/|discord(?:app)?\.com\/api\/webhooks\/|api\.telegram\.org\/bot)[^\s"'?#\\]+/gi;

/**
 * `text` with the credentials above replaced by LOG_CENSOR; the rest (scheme, host, port) stays,
 * so a line still says which proxy or which webhook. Two regex passes: for whole log lines, never
 * per chunk.
 */
export function redactSecretsInText(text: string): string {
  return text.replace(URL_USERINFO, `$1${LOG_CENSOR}@`).replace(WEBHOOK_PATH, `$1${LOG_CENSOR}`);
}
