/**
 * The embedded Store's bridge clients: their rows, registration, lookups by id and token, token
 * rotation, connections, and the live stats, whose buffered outcomes are added in one
 * transaction (client-stats.ts). Names are unique through a UNIQUE index on their case-folded
 * form, so a duplicate can never slip in between check and insert.
 */
import Database from 'better-sqlite3';
import { OutcomeBuffer, type OutcomeDelta, publicStats, type StatsColumns } from './client-stats.js';
import { generateId } from './secrets.js';
import {
  type ClientPatch,
  type ClientRateLimit,
  type ClientRecord,
  type ClientStatus,
  type ClientStore,
  type ClientTokenMatch,
  clientNameKey,
  DuplicateNameError,
  mergeClientLimits,
  type NewClient,
  tokenAccepted,
} from './store.js';

type ClientRow = StatsColumns & {
  id: string;
  name: string;
  name_key: string | null;
  email: string | null;
  webhook_url: string | null;
  lmarena_bridge_url: string | null;
  capabilities: string;
  rate_limit: string;
  status: ClientStatus;
  created_at: string;
  last_seen: string | null;
  metadata: string;
  token_preview: string;
};

const clientColumns = `id, name, name_key, email, webhook_url, lmarena_bridge_url, capabilities, rate_limit, status, created_at,
  last_seen, metadata, token_preview, total_requests, successful_requests, failed_requests, response_ms_total,
  recent_success`;

const toClient = (row: ClientRow): ClientRecord => ({
  id: row.id,
  name: row.name,
  email: row.email,
  webhook_url: row.webhook_url,
  lmarena_bridge_url: row.lmarena_bridge_url,
  capabilities: JSON.parse(row.capabilities) as string[],
  rate_limit: mergeClientLimits(JSON.parse(row.rate_limit) as Partial<ClientRateLimit>),
  status: row.status,
  created_at: row.created_at,
  last_seen: row.last_seen,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  token_preview: row.token_preview,
  ...publicStats(row),
});

/** Runs `write`, turning a UNIQUE violation of the name index into DuplicateNameError. */
function uniqueName<T>(name: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (error instanceof Database.SqliteError && /clients\.name_key/.test(error.message)) {
      throw new DuplicateNameError(name);
    }
    throw error;
  }
}

/** The client half of the Store on `db`, and the buffer of outcomes it has not written yet. */
export function sqliteClientStore(db: Database.Database): { clients: ClientStore; outcomes: OutcomeBuffer } {
  const q = {
    insertClient: db.prepare(
      `INSERT INTO clients (id, name, name_key, email, webhook_url, webhook_secret, lmarena_bridge_url,
         capabilities, rate_limit, status, created_at, metadata, token_hash, token_preview)
       VALUES (@id, @name, @name_key, @email, @webhook_url, @webhook_secret, @lmarena_bridge_url, @capabilities,
         @rate_limit, 'pending', @created_at, @metadata, @token_hash, @token_preview)`,
    ),
    getClient: db.prepare<[string], ClientRow>(`SELECT ${clientColumns} FROM clients WHERE id = ?`),
    listClients: db.prepare<[], ClientRow>(`SELECT ${clientColumns} FROM clients ORDER BY rowid`),
    clientByToken: db.prepare<[string], ClientRow>(
      `SELECT ${clientColumns} FROM clients WHERE token_hash = ?`,
    ),
    clientByPrevToken: db.prepare<[string], ClientRow & { prev_token_until: number }>(
      `SELECT ${clientColumns}, prev_token_until FROM clients WHERE prev_token_hash = ?`,
    ),
    updateClient: db.prepare(
      `UPDATE clients SET name = @name, name_key = @name_key, email = @email, webhook_url = @webhook_url,
         webhook_secret = @webhook_secret, lmarena_bridge_url = @lmarena_bridge_url, capabilities = @capabilities, rate_limit = @rate_limit,
         status = @status, metadata = @metadata
       WHERE id = @id`,
    ),
    deleteClient: db.prepare('DELETE FROM clients WHERE id = ?'),
    webhookSecret: db.prepare<[string], { webhook_secret: string | null }>(
      'SELECT webhook_secret FROM clients WHERE id = ?',
    ),
    rotateToken: db.prepare(
      `UPDATE clients SET prev_token_hash = token_hash, prev_token_until = @until, token_hash = @hash,
         token_preview = @preview
       WHERE id = @id`,
    ),
    touchClient: db.prepare(
      `UPDATE clients SET last_seen = @at, status = CASE status WHEN 'pending' THEN 'active' ELSE status END
       WHERE id = @id`,
    ),
    addOutcomes: db.prepare(
      `UPDATE clients SET total_requests = total_requests + @total,
         successful_requests = successful_requests + @ok, failed_requests = failed_requests + @failed,
         response_ms_total = response_ms_total + @msSum, recent_success = recent_success * @decay + @add
       WHERE id = @id`,
    ),
  };

  const getClient = (id: string) => {
    const row = q.getClient.get(id);
    return row && toClient(row);
  };

  const updateClient = db.transaction((id: string, patch: ClientPatch): ClientRecord | undefined => {
    const row = q.getClient.get(id);
    if (!row) return undefined;
    let status: ClientStatus = patch.status ?? row.status;
    if (status === 'active' && row.last_seen === null) status = 'pending';
    const name = patch.name ?? row.name;
    uniqueName(name, () =>
      q.updateClient.run({
        id,
        name,
        name_key: patch.name === undefined ? row.name_key : clientNameKey(patch.name),
        email: patch.email !== undefined ? patch.email : row.email,
        webhook_url: patch.webhook_url !== undefined ? patch.webhook_url : row.webhook_url,
        webhook_secret:
          patch.webhook_secret !== undefined
            ? patch.webhook_secret
            : (q.webhookSecret.get(id)?.webhook_secret ?? null),
        lmarena_bridge_url:
          patch.lmarena_bridge_url !== undefined ? patch.lmarena_bridge_url : row.lmarena_bridge_url,
        capabilities: patch.capabilities ? JSON.stringify(patch.capabilities) : row.capabilities,
        rate_limit: JSON.stringify(
          mergeClientLimits(JSON.parse(row.rate_limit) as Partial<ClientRateLimit>, patch.rate_limit),
        ),
        status,
        metadata: patch.metadata ? JSON.stringify(patch.metadata) : row.metadata,
      }),
    );
    return getClient(id);
  });

  const rotateToken = db.transaction((id: string, hash: string, preview: string, until: number) =>
    q.rotateToken.run({ id, hash, preview, until }).changes > 0 ? getClient(id) : undefined,
  );
  const findClientToken = (tokenHash: string): ClientTokenMatch | undefined => {
    const row = q.clientByToken.get(tokenHash);
    if (row) return { client: toClient(row), retiresAt: null };
    const prev = q.clientByPrevToken.get(tokenHash);
    return prev && { client: toClient(prev), retiresAt: prev.prev_token_until };
  };

  const applyOutcomes = db.transaction((batch: Map<string, OutcomeDelta>) => {
    for (const [id, delta] of batch) q.addOutcomes.run({ id, ...delta });
  });
  const outcomes = new OutcomeBuffer((batch) => applyOutcomes(batch));

  const clients: ClientStore = {
    async createClient(input: NewClient) {
      const id = generateId('cl');
      uniqueName(input.name, () =>
        q.insertClient.run({
          id,
          name: input.name,
          name_key: clientNameKey(input.name),
          email: input.email,
          webhook_url: input.webhook_url ?? null,
          webhook_secret: input.webhook_secret ?? null,
          lmarena_bridge_url: input.lmarena_bridge_url,
          capabilities: JSON.stringify(input.capabilities),
          rate_limit: JSON.stringify(mergeClientLimits(input.rate_limit)),
          created_at: new Date().toISOString(),
          metadata: JSON.stringify(input.metadata),
          token_hash: input.tokenHash,
          token_preview: input.tokenPreview,
        }),
      );
      return getClient(id)!;
    },
    async getClient(id) {
      await outcomes.flush();
      return getClient(id);
    },
    async listClients() {
      await outcomes.flush();
      return q.listClients.all().map(toClient);
    },
    async findClientByTokenHash(tokenHash) {
      await outcomes.flush();
      const match = findClientToken(tokenHash);
      return match && tokenAccepted(match) ? match.client : undefined;
    },
    async findClientToken(tokenHash) {
      await outcomes.flush();
      return findClientToken(tokenHash);
    },
    async updateClient(id, patch) {
      await outcomes.flush();
      return updateClient.immediate(id, patch);
    },
    async getClientWebhookSecret(id) {
      return q.webhookSecret.get(id)?.webhook_secret ?? undefined;
    },
    async deleteClient(id) {
      return q.deleteClient.run(id).changes > 0;
    },
    async rotateClientToken(id, tokenHash, tokenPreview, graceUntil = Date.now()) {
      await outcomes.flush();
      return rotateToken.immediate(id, tokenHash, tokenPreview, graceUntil);
    },
    async touchClient(id, at) {
      q.touchClient.run({ id, at: at.toISOString() });
    },
    async recordClientOutcome(id, outcome) {
      outcomes.add(id, outcome);
    },
  };
  return { clients, outcomes };
}
