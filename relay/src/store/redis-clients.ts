/**
 * The Redis Store's bridge clients: registration (names unique), lookups by id and by token,
 * token rotation, connections, and the live stats, whose outcomes are buffered and added by one
 * script per client (client-stats.ts). Registrations and rotations are durable (redis-access.ts).
 */
import { OutcomeBuffer } from './client-stats.js';
import type { RedisAccess } from './redis-access.js';
import { changes, decodeClient, flat, json, type RedisKeys } from './redis-records.js';
import {
  ADD_OUTCOMES,
  CREATE_RECORD,
  DELETE_CLIENT,
  ROTATE_TOKEN,
  TOUCH_CLIENT,
  UPDATE_CLIENT,
} from './redis-scripts.js';
import { generateId } from './secrets.js';
import {
  type ClientPatch,
  type ClientStore,
  type ClientTokenMatch,
  clientNameKey,
  DuplicateNameError,
  tokenAccepted,
} from './store.js';

/** The client half of the Store on `k`, and the buffer of outcomes it has not written yet. */
export function redisClientStore(
  { redis, run, runDurable, readHash, readAll }: RedisAccess,
  k: RedisKeys,
): { clients: ClientStore; outcomes: OutcomeBuffer } {
  const findClientToken = async (tokenHash: string): Promise<ClientTokenMatch | undefined> => {
    const id = await redis.hget(k.clientToken, tokenHash);
    if (!id) return undefined;
    const h = await readHash(k.client(id));
    // Rotated again between the two reads: the token is neither current nor previous.
    if (h?.token_hash === tokenHash) return { client: decodeClient(h), retiresAt: null };
    if (h?.prev_token_hash === tokenHash) {
      return { client: decodeClient(h), retiresAt: Number(h.prev_token_until ?? 0) };
    }
    return undefined;
  };
  const getClient = async (id: string) => {
    const h = await readHash(k.client(id));
    return h && decodeClient(h);
  };

  const outcomes = new OutcomeBuffer(async (batch) => {
    await Promise.all(
      [...batch].map(([id, d]) =>
        run(
          ADD_OUTCOMES,
          [k.client(id)],
          [d.total, d.ok, d.failed, String(d.msSum), String(d.decay), String(d.add)],
        ),
      ),
    );
  });

  const clients: ClientStore = {
    async createClient(input) {
      const id = generateId('cl');
      const now = new Date();
      const nameKey = clientNameKey(input.name);
      const fields = changes(
        {
          id,
          name: input.name,
          name_key: nameKey,
          email: input.email,
          webhook_url: input.webhook_url,
          webhook_secret: input.webhook_secret,
          lmarena_bridge_url: input.lmarena_bridge_url,
          capabilities: JSON.stringify(input.capabilities),
          status: 'pending',
          created_at: now.toISOString(),
          metadata: JSON.stringify(input.metadata),
          token_hash: input.tokenHash,
          token_preview: input.tokenPreview,
          total_requests: '0',
          successful_requests: '0',
          failed_requests: '0',
          response_ms_total: '0',
          recent_success: '0',
        },
        'rl:',
        input.rate_limit,
      );
      const done = await runDurable(
        CREATE_RECORD,
        [k.client(id), k.clients, k.seq, k.clientName, k.clientToken],
        [id, nameKey, input.tokenHash, ...fields.set.flat()],
      );
      if (done === -1) throw new DuplicateNameError(input.name);
      if (done !== 1) throw new Error('client token hash already in use');
      return (await getClient(id))!;
    },
    async getClient(id) {
      await outcomes.flush();
      return getClient(id);
    },
    async listClients() {
      await outcomes.flush();
      return (await readAll(await redis.zrange(k.clients, 0, -1), k.client)).map(decodeClient);
    },
    async findClientByTokenHash(tokenHash) {
      await outcomes.flush();
      const match = await findClientToken(tokenHash);
      return match && tokenAccepted(match) ? match.client : undefined;
    },
    async findClientToken(tokenHash) {
      await outcomes.flush();
      return findClientToken(tokenHash);
    },
    async updateClient(id, patch: ClientPatch) {
      await outcomes.flush();
      const fields = changes(
        {
          name: patch.name,
          email: patch.email,
          webhook_url: patch.webhook_url,
          webhook_secret: patch.webhook_secret,
          lmarena_bridge_url: patch.lmarena_bridge_url,
          capabilities: json(patch.capabilities),
          metadata: json(patch.metadata),
        },
        'rl:',
        patch.rate_limit,
      );
      const nameKey = patch.name === undefined ? '' : clientNameKey(patch.name);
      const done = await runDurable(
        UPDATE_CLIENT,
        [k.client(id), k.clientName],
        [id, nameKey, patch.status ?? '', ...flat(fields)],
      );
      if (done === -1) throw new DuplicateNameError(patch.name!);
      return done === 1 ? getClient(id) : undefined;
    },
    async getClientWebhookSecret(id) {
      return (await redis.hget(k.client(id), 'webhook_secret')) ?? undefined;
    },
    async deleteClient(id) {
      return (
        (await runDurable(DELETE_CLIENT, [k.client(id), k.clientName, k.clientToken, k.clients], [id])) === 1
      );
    },
    async rotateClientToken(id, tokenHash, tokenPreview, graceUntil = Date.now()) {
      await outcomes.flush();
      const done = await runDurable(
        ROTATE_TOKEN,
        [k.client(id), k.clientToken],
        [
          id,
          tokenHash,
          'token_hash',
          'prev_token_hash',
          'prev_token_until',
          'token_preview',
          tokenPreview,
          graceUntil,
        ],
      );
      if (done === -1) throw new Error('client token hash already in use');
      return done === 1 ? getClient(id) : undefined;
    },
    async touchClient(id, at) {
      await run(TOUCH_CLIENT, [k.client(id)], [at.toISOString()]);
    },
    async recordClientOutcome(id, outcome) {
      outcomes.add(id, outcome);
    },
  };
  return { clients, outcomes };
}
