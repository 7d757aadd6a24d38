/** @arena-relay/bridge-agent: runs beside LMArenaBridge and lends it to a relay over one outbound WebSocket. */
export { type Agent, type AgentEvents, type AgentOptions, type CloseOptions, startAgent } from './agent.js';
export {
  ConfigError,
  DEFAULT_CONFIG_PATH,
  type LoadConfigInput,
  loadConfig,
  USAGE,
  wantsHelp,
} from './config/load-config.js';
export type { AgentConfig } from './config/schema.js';
export { createLogger, type LoggerOptions } from './logging.js';
export type { AgentStats, PlatformStatus } from './status/status-server.js';
export { FatalLinkError } from './tunnel/relay-refusal.js';
export { AGENT_VERSION } from './version.js';
