/** Set by the bundle build (esbuild `define`); absent when the agent runs from its sources. */
declare const __ARENA_AGENT_VERSION__: string | undefined;

/** The agent's own version, sent in `hello`. Kept equal to package.json by a test. */
export const AGENT_VERSION: string =
  typeof __ARENA_AGENT_VERSION__ === 'string' ? __ARENA_AGENT_VERSION__ : '0.1.0';
