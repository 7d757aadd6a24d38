/**
 * Lianues/LMArenaBridge v2.7.6 (`:5102`, `/v1/*`, optional Bearer key): no health route, failures
 * as `[LMArena Bridge Error]: …` text chunks inside a 200 stream, a browser tab that may be gone.
 * The behaviour the agent had before dialects existed, moved here unchanged.
 */
import { BRIDGE_ERROR_LABEL, classifyBridgeMessage, classifyStatus } from '../classify.js';
import { BRIDGE_ERROR_MARKER, BRIDGE_ERROR_PREFIX } from '../in-band-error.js';
import type { Dialect } from './dialect.js';

export const lmarenabridgeV2: Dialect = {
  name: 'lmarenabridge-v2',
  apiPrefix: '/v1',
  defaultPort: 5102,
  // One tab serves requests in parallel (matched by request id): a handful at once.
  concurrency: 4,
  serveProbe: true,
  laterErrorMarker: BRIDGE_ERROR_MARKER,
  classifyStatus,
  classifyError: (error) =>
    classifyBridgeMessage(
      error.message.startsWith(BRIDGE_ERROR_LABEL)
        ? error.message.slice(BRIDGE_ERROR_LABEL.length)
        : error.message,
    ),
  contentFailure: (content) =>
    content.startsWith(BRIDGE_ERROR_PREFIX)
      ? classifyBridgeMessage(content.slice(BRIDGE_ERROR_PREFIX.length))
      : undefined,
};
