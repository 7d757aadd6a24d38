/**
 * `GET /api/usage`: metered usage rolled up and priced, as JSON or CSV.
 *
 *   key, client, model   filter by id (client `none`: requests no bridge served)
 *   from, to             `YYYY-MM-DD` or an ISO 8601 time with a zone; `from` inclusive, `to`
 *                        exclusive, except that a bare date `to` includes that whole day (UTC).
 *                        Usage is kept per UTC hour: bounds are widened to whole hours.
 *   group_by             comma-separated `day`, `key`, `client`, `model` (default `key`; empty for
 *                        one total group)
 *   format               `json` (default) or `csv`
 *
 * Mounted behind the admin guard of admin.ts. Usage from other relays shows once they have
 * written it (within a second).
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';
import { buildReport, GROUP_BY, reportCsv } from '../usage/report.js';
import { HOUR_MS, hourOf } from '../usage/usage-store.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const bound = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const id = z.string().min(1).max(200);

const usageQuery = z
  .strictObject({
    key: id.optional(),
    client: id.optional(),
    model: id.optional(),
    from: bound.optional(),
    to: bound.optional(),
    group_by: z
      .string()
      .default('key')
      .transform((v) => (v.trim() === '' ? [] : [...new Set(v.split(',').map((s) => s.trim()))]))
      .pipe(z.array(z.enum(GROUP_BY))),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .transform((q) => ({
    ...q,
    fromMs: q.from === undefined ? undefined : Date.parse(q.from),
    // A bare date as the end includes that day.
    toMs: q.to === undefined ? undefined : Date.parse(q.to) + (DATE.test(q.to) ? 86_400_000 : 0),
  }))
  .refine((q) => q.fromMs === undefined || q.toMs === undefined || q.fromMs < q.toMs, {
    message: 'must be after from',
    path: ['to'],
  });

export function usageRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { accounting, store } = deps;

  app.get('/api/usage', async (c) => {
    const q = await body(async () => c.req.query(), usageQuery);
    const rows = await accounting.usage.query({
      keyId: q.key,
      clientId: q.client === 'none' ? '' : q.client,
      model: q.model,
      fromHour: q.fromMs === undefined ? undefined : hourOf(q.fromMs),
      // The hour holding the end is in when the end is past its start.
      toHour: q.toMs === undefined ? undefined : hourOf(q.toMs + HOUR_MS - 1),
    });
    const names = {
      keys: new Map<string, string>(),
      clients: new Map<string, string>(),
    };
    if (q.group_by.includes('key')) {
      for (const k of await store.listApiKeys({ includeRevoked: true })) names.keys.set(k.id, k.name);
    }
    if (q.group_by.includes('client')) {
      for (const client of await store.listClients()) names.clients.set(client.id, client.name);
    }
    const report = buildReport(rows, q.group_by, accounting.prices, names);
    if (q.format === 'csv') {
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', 'attachment; filename="usage.csv"');
      return c.body(reportCsv(report));
    }
    return c.json({
      from: q.fromMs === undefined ? null : new Date(q.fromMs).toISOString(),
      to: q.toMs === undefined ? null : new Date(q.toMs).toISOString(),
      granularity: 'hour',
      ...report,
    });
  });
}
