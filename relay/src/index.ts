/** @arena-relay/relay: start a relay in-process (tests, embedding) or via `npm start`. */
export { type BalancingStrategy, ConfigError, loadConfig, type RelayConfig } from './config/load-config.js';
export { ERRORS, RelayError, toRelayError } from './errors/relay-error.js';
export { createLogger } from './log/logger.js';
export { type Relay, type RelayOptions, startRelay } from './server.js';
export { RedisConnections, type RedisEndpoint, redisEndpoint } from './store/redis-connection.js';
export { openRedisStore, type RedisStoreOptions } from './store/redis-store.js';
export { openSqliteStore } from './store/sqlite-store.js';
export {
  type ApiKeyPatch,
  type ApiKeyRecord,
  type ApiKeyScope,
  type ClientPatch,
  type ClientRecord,
  DuplicateNameError,
  type Store,
} from './store/store.js';
