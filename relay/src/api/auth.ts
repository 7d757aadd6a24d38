/** Bearer-token checks for consumers (API keys) and operators (admin token). */
import { RelayError } from '../errors/relay-error.js';
import { hashSecret, secretMatches } from '../store/secrets.js';
import type { ApiKeyRecord, Store } from '../store/store.js';

/** The token of an `Authorization: Bearer …` header, if well formed. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The live API key presented, or 401 `invalid_api_key`. */
export async function authenticateKey(store: Store, header: string | undefined): Promise<ApiKeyRecord> {
  const token = bearer(header);
  if (!token) {
    throw new RelayError(
      'invalid_api_key',
      "You didn't provide an API key. Provide it in the Authorization header (Authorization: Bearer YOUR_KEY).",
    );
  }
  const key = await store.findApiKeyByHash(hashSecret(token));
  if (!key) throw new RelayError('invalid_api_key', 'Incorrect API key provided.');
  return key;
}

/** 401 unless the header carries the admin token (compared in constant time). */
export function authenticateAdmin(adminTokenHash: string, header: string | undefined): void {
  const token = bearer(header);
  if (!token || !secretMatches(token, adminTokenHash)) {
    throw new RelayError('invalid_admin_token', 'admin token required (Authorization: Bearer <admin token>)');
  }
}
