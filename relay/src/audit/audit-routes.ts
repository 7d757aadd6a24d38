/**
 * The audit log's HTTP side: a middleware behind the admin guard that records every admin action
 * once it is answered (refused ones too, with their status), and `GET /api/audit`:
 *
 *   action, target, actor   exact filters (`actor` as listed: `admin_token:<fp>` or `key:<id>`)
 *   since, until            ISO 8601 with a zone, or `YYYY-MM-DD` (UTC); `until` exclusive
 *   limit                   newest first, 1..1000 (default 200)
 *   format                  `json` (default) or `csv`
 *
 * Recording never fails the action: a store that cannot take the entry is logged at error.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { clientAddress } from '../http/client-address.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { toCsv } from '../http/csv.js';
import { body } from '../http/json-body.js';
import { generateId } from '../store/secrets.js';
import { actionOf, redactChange } from './audit-actions.js';
import type { AuditEntry } from './audit-log.js';

/** Admin bodies are small; a larger one is recorded as such, not read twice. */
const MAX_RECORDED_BODY = 64 * 1024;

export function auditRecorder(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const matched = actionOf(c.req.method, c.req.path);
    if (!matched) return next();
    const change = await readChange(c);
    await next();
    let target = matched.target;
    if (matched.targetFrom && c.res.status < 300) target = await createdId(c, matched.targetFrom);
    const entry: AuditEntry = {
      id: generateId('aud'),
      at: new Date().toISOString(),
      action: matched.action,
      target,
      actor: c.get('adminActor') ?? 'unknown',
      address: clientAddress(c.env.incoming, deps.config.trustProxy).slice(0, 128),
      status: c.res.status,
      change,
      relayId: deps.relayId,
    };
    try {
      await deps.audit.append(entry);
    } catch (error) {
      deps.logger.error({ err: (error as Error).message, action: entry.action }, 'audit entry not recorded');
    }
  };
}

async function readChange(c: Context<AppEnv>): Promise<Record<string, unknown> | null> {
  if (c.req.method === 'GET' || c.req.method === 'DELETE') return null;
  const length = Number(c.req.header('content-length') ?? 0);
  if (length > MAX_RECORDED_BODY) return { body: `<${length} bytes, not recorded>` };
  // A clone: the handler still reads the body itself.
  const text = await c.req.raw
    .clone()
    .text()
    .catch(() => '');
  return redactChange(text.slice(0, MAX_RECORDED_BODY));
}

/** The id of what a create answered with (`{client: {id}}` for a client, `{id}` for a key). */
async function createdId(c: Context<AppEnv>, field: 'client' | 'key'): Promise<string | null> {
  try {
    const answer = (await c.res.clone().json()) as { id?: unknown; client?: { id?: unknown } };
    const id = field === 'client' ? answer.client?.id : answer.id;
    return typeof id === 'string' ? id.slice(0, 256) : null;
  } catch {
    return null;
  }
}

const bound = z.union([z.iso.date(), z.iso.datetime({ offset: true })]).transform((v) => Date.parse(v));
const exact = z.string().min(1).max(256);

const auditQuery = z.strictObject({
  action: exact.optional(),
  target: exact.optional(),
  actor: exact.optional(),
  since: bound.optional(),
  until: bound.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  format: z.enum(['json', 'csv']).default('json'),
});

const CSV_COLUMNS = ['at', 'action', 'target', 'actor', 'address', 'status', 'change', 'relayId'] as const;

export function auditRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/api/audit', async (c) => {
    const q = await body(async () => c.req.query(), auditQuery);
    const entries = await deps.audit.query({
      action: q.action,
      target: q.target,
      actor: q.actor,
      sinceMs: q.since,
      untilMs: q.until,
      limit: q.limit,
    });
    if (q.format === 'csv') {
      const rows = entries.map((e) => ({ ...e, change: e.change === null ? '' : JSON.stringify(e.change) }));
      c.header('content-disposition', 'attachment; filename="audit.csv"');
      return c.body(toCsv(CSV_COLUMNS, rows), 200, { 'content-type': 'text/csv; charset=utf-8' });
    }
    return c.json({ entries });
  });
}
