/**
 * The Store: everything the relay must remember across restarts (bridge clients, API keys,
 * settings). Secrets are passed in and kept only as hashes. Async so that the embedded (SQLite)
 * and the shared (Redis) implementations have one interface; test/store-contract.test.ts runs
 * the same suite against both.
 */
import type { ApiKeyPatch, ApiKeyRecord, NewApiKey } from './api-key-records.js';
import type {
  ClientOutcome,
  ClientPatch,
  ClientRecord,
  ClientTokenMatch,
  NewClient,
} from './client-records.js';

export * from './api-key-records.js';
export * from './client-records.js';
export * from './record-limits.js';

/** Bridge clients: registration, tokens, connections and their live stats. */
export interface ClientStore {
  /** Throws DuplicateNameError when the name is taken (case-insensitively). */
  createClient(input: NewClient): Promise<ClientRecord>;
  getClient(id: string): Promise<ClientRecord | undefined>;
  /** Every client, oldest first. */
  listClients(): Promise<ClientRecord[]>;
  /**
   * The client whose current token has this hash, or whose previous token has it and is still in
   * its grace period; whatever its status (the caller checks it).
   */
  findClientByTokenHash(tokenHash: string): Promise<ClientRecord | undefined>;
  /** The client holding this token hash, current or previous (grace over or not), and which. */
  findClientToken(tokenHash: string): Promise<ClientTokenMatch | undefined>;
  /** Undefined for an unknown id; throws DuplicateNameError on a rename onto a taken name. */
  updateClient(id: string, patch: ClientPatch): Promise<ClientRecord | undefined>;
  /** False when no client has this id. */
  deleteClient(id: string): Promise<boolean>;
  /** The HMAC key of the client's owner webhook; undefined without one (or for an unknown id). */
  getClientWebhookSecret(id: string): Promise<string | undefined>;
  /**
   * Replaces the token. The old one becomes the previous token, accepted until `graceUntil` (ms
   * epoch; default now, i.e. retired at once) and recognised as rotated after that; a previous
   * token from an earlier rotation is forgotten. Undefined for an unknown id.
   */
  rotateClientToken(
    id: string,
    tokenHash: string,
    tokenPreview: string,
    graceUntil?: number,
  ): Promise<ClientRecord | undefined>;
  /** Records a connection: status pending → active, last_seen = at. Unknown ids are ignored. */
  touchClient(id: string, at: Date): Promise<void>;
  /**
   * Counts one finished request. Buffered in memory and written at most once a second (and
   * before every read and at close), so it is cheap to call per request; unknown ids are ignored.
   */
  recordClientOutcome(id: string, outcome: ClientOutcome): Promise<void>;
}

/** API keys: the consumer's credentials, their scopes, limits and secrets. */
export interface ApiKeyStore {
  createApiKey(input: NewApiKey): Promise<ApiKeyRecord>;
  /** The key with this id, revoked or not. */
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Oldest first; revoked keys only with `includeRevoked`. */
  listApiKeys(options?: { includeRevoked?: boolean }): Promise<ApiKeyRecord[]>;
  /**
   * The non-revoked key whose secret has this hash, or whose previous secret (see
   * `regenerateApiKey`) has it within its grace period. Expired keys ARE returned (so that auth can say
   * "expired"); callers must check `expires_at`.
   */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Undefined when no live (non-revoked) key has this id. */
  updateApiKey(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined>;
  /** Sets last_used_at; callers throttle it. Unknown ids are ignored. */
  touchApiKey(id: string, at: Date): Promise<void>;
  /**
   * Gives a live key a new secret; the old one stays accepted until `graceUntil` (ms epoch),
   * replacing any previous one. Undefined when no live key has this id.
   */
  regenerateApiKey(
    id: string,
    keyHash: string,
    preview: string,
    graceUntil: number,
  ): Promise<ApiKeyRecord | undefined>;
  /** Revokes a key (its previous secret too); false when no live key has this id. */
  revokeApiKey(id: string): Promise<boolean>;
}

/** Named settings (alias book, pushed client settings, update policy…), one string each. */
export interface SettingStore {
  getSetting(name: string): Promise<string | undefined>;
  setSetting(name: string, value: string): Promise<void>;
  /** Sets the setting unless it exists, atomically; resolves with the value now stored. */
  setSettingIfAbsent(name: string, value: string): Promise<string>;
}

export interface Store extends ClientStore, ApiKeyStore, SettingStore {
  /** Writes buffered stats and releases the file / connection. Idempotent. */
  close(): Promise<void>;
}
