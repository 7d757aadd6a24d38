/** Set by the bundle build (esbuild `define`); absent when the agent runs from its sources. */
declare const __ARENA_AGENT_VERSION__: string | undefined;

/** The agent's own version, sent in `hello`. Kept equal to package.json by a test. */
export const AGENT_VERSION: string =
  typeof __ARENA_AGENT_VERSION__ === 'string' ? __ARENA_AGENT_VERSION__ : '0.1.0';

/** Set by `npm run release:sign` (esbuild `define`): the release key this bundle pins. */
declare const __ARENA_RELEASE_KEY__: string | undefined;

/** The release key built into the bundle, when it was built signed; config.jsonc's `release_key` wins. */
export const BUNDLED_RELEASE_KEY: string | undefined =
  typeof __ARENA_RELEASE_KEY__ === 'string' ? __ARENA_RELEASE_KEY__ : undefined;
