/**
 * The Store: everything the relay must remember across restarts (bridge clients, API keys,
 * settings). Secrets are passed in and kept only as hashes. Async so that a Redis
 * implementation can share the interface.
 */

export type ClientStatus = 'pending' | 'active' | 'disabled';

export type ClientRecord = {
  id: string;
  name: string;
  email: string | null;
  lmarena_bridge_url: string | null;
  capabilities: string[];
  status: ClientStatus;
  created_at: string;
  last_seen: string | null;
  metadata: Record<string, unknown>;
  /** Display form of the current token, e.g. "art_Ab3dEf…". */
  token_preview: string;
};

export type NewClient = {
  name: string;
  email: string | null;
  lmarena_bridge_url: string | null;
  capabilities: string[];
  metadata: Record<string, unknown>;
  tokenHash: string;
  tokenPreview: string;
};

export type ApiKeyRecord = {
  id: string;
  name: string;
  /** Display form of the key, e.g. "sk-ar-Ab3d…". */
  preview: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
};

export type NewApiKey = {
  name: string;
  scopes: string[];
  keyHash: string;
  preview: string;
};

export interface Store {
  createClient(input: NewClient): Promise<ClientRecord>;
  getClient(id: string): Promise<ClientRecord | undefined>;
  listClients(): Promise<ClientRecord[]>;
  /** The client a token belongs to, if the token is current. */
  findClientByTokenHash(tokenHash: string): Promise<ClientRecord | undefined>;
  /** Records a connection: status pending → active, last_seen = now. */
  touchClient(id: string, at: Date): Promise<void>;

  createApiKey(input: NewApiKey): Promise<ApiKeyRecord>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** The live (not revoked) key with this hash. */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Revokes a key; false when no live key has this id. */
  revokeApiKey(id: string): Promise<boolean>;

  getSetting(name: string): Promise<string | undefined>;
  setSetting(name: string, value: string): Promise<void>;

  close(): Promise<void>;
}
