/**
 * `GET /api/requests` and `GET /api/requests/{id}`: the request logs of every relay of the
 * cluster (request-log.ts), asked like `/api/agents` (cluster/cluster-view.ts). Filters:
 *
 *   id                        one request, by its `x-request-id`
 *   key, client, agent        exact ids (client and agent: the one that served, or any attempt's)
 *   model                     the model asked for, or the one that served
 *   status                    an HTTP status (`503`), a class (`5xx`), or `0` (the consumer left first)
 *   outcome                   `ok`, `consumer_disconnected`, or an error code (`upstream_unavailable`…)
 *   since, until              ISO 8601 with a zone, or `YYYY-MM-DD` (UTC); `until` exclusive
 *   limit                     newest first (by start time), 1..1000 (default 100)
 *
 * Entries from other relays are checked against the entry schema; a relay that answers with
 * anything else is listed under `unreachable`, like one that does not answer in time. Each attempt
 * is answered with `fix`: what the bridge's owner does about its `reason`, in the words the
 * agents' status and the dashboard use (shared/bridge-reasons.ts); it is not stored.
 */
import { BRIDGE_REASON_FIXES, type BridgeReasonCode } from '@arena-relay/shared';
import type { Hono } from 'hono';
import { z } from 'zod';
import { type ClusterAnswers, clusterQuery, type Unreachable } from '../cluster/cluster-view.js';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';
import { type RequestEntry, requestEntry } from './request-entry.js';
import { MAX_QUERY_LIMIT, type RequestFilter, requestFilter } from './request-log.js';

const bound = z.union([z.iso.date(), z.iso.datetime({ offset: true })]).transform((v) => Date.parse(v));
const status = z
  .string()
  .regex(/^(0|[1-5]\d\d|[1-5]xx)$/i, 'must be an HTTP status (503), a class (5xx), or 0')
  .transform((v) => {
    if (!/x/i.test(v)) return { statusMin: Number(v), statusMax: Number(v) };
    const hundreds = Number(v[0]) * 100;
    return { statusMin: hundreds, statusMax: hundreds + 99 };
  });

// The exact-match fields as the filter checks them; the rest in query-string form.
const requestsQuery = requestFilter
  .pick({ id: true, key: true, client: true, agent: true, model: true, outcome: true })
  .extend({
    status: status.optional(),
    since: bound.optional(),
    until: bound.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_QUERY_LIMIT).default(100),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since < q.until, {
    message: 'must be after since',
    path: ['until'],
  })
  .transform(
    ({ status, since, until, ...rest }): RequestFilter => ({
      ...rest,
      ...status,
      sinceMs: since,
      untilMs: until,
    }),
  );

const peerEntries = z.array(requestEntry).max(MAX_QUERY_LIMIT);
const byId = requestFilter.pick({ id: true }).required();

/** An entry as the API answers it: each attempt with the fix for its reason (null: none known). */
function shown(entry: RequestEntry) {
  const attempts = entry.attempts.map((attempt) => ({
    ...attempt,
    fix:
      (attempt.reason !== null &&
        Object.hasOwn(BRIDGE_REASON_FIXES, attempt.reason) &&
        BRIDGE_REASON_FIXES[attempt.reason as BridgeReasonCode]) ||
      null,
  }));
  return { ...entry, attempts };
}

/** The answers of every relay as entries; a relay whose answer is not a request log is unreachable. */
function checked(
  asked: ClusterAnswers<unknown>,
  own: string,
): { entries: RequestEntry[]; unreachable: Unreachable[] } {
  const entries: RequestEntry[] = [];
  const unreachable = [...asked.unreachable];
  for (const answer of asked.answers) {
    if (answer.relay === own) {
      entries.push(...(answer.value as RequestEntry[]));
      continue;
    }
    const parsed = peerEntries.safeParse(answer.value);
    if (parsed.success) entries.push(...parsed.data);
    else
      unreachable.push({
        relay: answer.relay,
        error: 'failed',
        message: 'answered with an invalid request log',
      });
  }
  return { entries, unreachable };
}

export function requestRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { requestLog, relayId } = deps;
  const list = clusterQuery(deps, 'requests', requestFilter, (filter) => requestLog.query(filter));
  // One id: the relay that took the request answers with its one entry, the others with none.
  const one = clusterQuery(deps, 'request', byId, ({ id }) => requestLog.query({ id, limit: 1 }));

  app.get('/api/requests', async (c) => {
    const filter = await body(async () => c.req.query(), requestsQuery);
    const { entries, unreachable } = checked(await list(filter), relayId);
    entries.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    return c.json({ requests: entries.slice(0, filter.limit).map(shown), unreachable });
  });

  app.get('/api/requests/:id', async (c) => {
    const { id } = await body(async () => ({ id: c.req.param('id') }), byId);
    const local = requestLog.query({ id, limit: 1 });
    if (local[0]) return c.json(shown(local[0]));
    const { entries, unreachable } = checked(await one({ id }), relayId);
    if (entries[0]) return c.json(shown(entries[0]));
    const silent = unreachable.map((u) => u.relay);
    throw new RelayError(
      'not_found',
      `no request '${id}' in the request log of any relay${silent.length ? ` (not answering: ${silent.join(', ')})` : ''}`,
    );
  });
}
