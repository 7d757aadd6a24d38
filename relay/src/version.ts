/** The relay's version, shown by `GET /api/relays` (kept equal to relay/package.json's). */
export const RELAY_VERSION = '0.1.0';
