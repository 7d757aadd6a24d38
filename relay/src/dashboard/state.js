// @ts-check
/**
 * What the page knows: the operator's token (sessionStorage: this tab only) and the latest
 * answers of the admin API, one field per listing. Tabs read it to render; only the refreshers
 * write it. `hooks` lets modules ask the page to re-render or refresh without importing app.js.
 */
/** @import { Agent, ApiKeyRecord, AuditEntry, Channel, ClientRecord, Delivery, Relay, RequestLine, Stats, Stream, Unreachable, UsageGroup } from './types.js' */

export const TOKEN_KEY = 'arena-relay.admin-token';
/** How often the visible figures refresh, ms. */
export const POLL_MS = 2000;
export const TABS = /** @type {const} */ ([
  'overview',
  'clients',
  'keys',
  'requests',
  'usage',
  'stats',
  'relays',
  'aliases',
  'alerts',
  'audit',
]);
/** @typedef {(typeof TABS)[number]} TabName */

/** @type {Readonly<Record<TabName, string>>} */
export const TAB_LABELS = {
  overview: 'Overview',
  clients: 'Clients',
  keys: 'API keys',
  requests: 'Requests',
  usage: 'Usage',
  stats: 'Stats',
  relays: 'Relays',
  aliases: 'Aliases',
  alerts: 'Alerts',
  audit: 'Audit',
};

/**
 * @typedef {object} State
 * @property {string} token
 * @property {TabName} tab
 * @property {Agent[]} agents
 * @property {Unreachable[]} unreachable relays that did not answer the last agents listing in time
 * @property {number} queueDepth
 * @property {Relay[]} relays
 * @property {Record<string, string[]>} aliases alias name → its models, as `/api/aliases` lists them
 * @property {string} relayId the relay this page talks to (its answers name it)
 * @property {Stats | null} stats
 * @property {ClientRecord[]} clients
 * @property {ApiKeyRecord[]} keys live keys, and revoked ones when `showRevoked`
 * @property {boolean} showRevoked
 * @property {{ groups?: UsageGroup[] } | null} usage
 * @property {boolean | undefined} usageAvailable undefined: not tried yet; false: the relay has no usage API
 * @property {Stream[]} streams requests in flight on every relay
 * @property {AuditEntry[]} audit `/api/audit` entries for the filter in `auditQuery`, newest first
 * @property {string} auditQuery
 * @property {RequestLine[]} requests `/api/requests` entries for the filter in `requestsQuery`, newest first
 * @property {string} requestsQuery
 * @property {string[]} requestsUnreachable relays that did not answer the last request listing
 * @property {RequestLine | null} request the request shown in detail
 * @property {Channel[]} channels alert channels
 * @property {Delivery[]} deliveries this relay's alert delivery log, newest first
 * @property {ReturnType<typeof setTimeout> | undefined} timer
 */

/** @type {State} */
export const state = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? '',
  tab: 'overview',
  agents: [],
  unreachable: [],
  queueDepth: 0,
  relays: [],
  aliases: {},
  relayId: '',
  stats: null,
  clients: [],
  keys: [],
  showRevoked: false,
  usage: null,
  usageAvailable: undefined,
  streams: [],
  audit: [],
  auditQuery: '',
  requests: [],
  requestsQuery: '',
  requestsUnreachable: [],
  request: null,
  channels: [],
  deliveries: [],
  timer: undefined,
};

/** Set by app.js at start. */
export const hooks = {
  /** Draws the visible tab from `state`. */
  render: () => {},
  /** Signs the operator out, saying why. */
  signOut: /** @param {string} _message */ (_message) => {},
  /** Marks the page live, or stale with the reason. */
  markLive: /** @param {boolean} _ok @param {string} [_why] */ (_ok, _why) => {},
  /** Shows a failed refresh as the page going stale (a refused token has signed out already). */
  reportError: /** @param {unknown} _error */ (_error) => {},
  /** Reloads agents, stats, clients and keys (what most actions change). */
  refreshCommon: async () => {},
};
