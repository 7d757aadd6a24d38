/** The agent's own version, sent in `hello`. Kept equal to package.json by a test. */
export const AGENT_VERSION = '0.1.0';
