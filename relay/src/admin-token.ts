/**
 * The admin token: ADMIN_TOKEN when set; otherwise generated at first start, printed once by the
 * CLI, and only its hash kept in the store so later starts accept it without knowing it.
 */
import { generateSecret, hashSecret } from './store/secrets.js';
import type { Store } from './store/store.js';

const SETTING = 'admin_token_hash';

export type AdminToken = {
  hash: string;
  /** Set only when generated just now: show it once. */
  generated?: string;
};

export async function resolveAdminToken(configured: string | undefined, store: Store): Promise<AdminToken> {
  if (configured) return { hash: hashSecret(configured) };
  const stored = await store.getSetting(SETTING);
  if (stored) return { hash: stored };
  const token = generateSecret('adminToken');
  const hash = hashSecret(token);
  // Relays sharing a Redis store may start together: only the first generated token is kept
  // (and shown, by the relay that generated it).
  const kept = await store.setSettingIfAbsent(SETTING, hash);
  return kept === hash ? { hash, generated: token } : { hash: kept };
}
