/** The oldest Node.js the agent runs on (undici 7 needs 20.18.1), and the check against it. */

export const MIN_NODE_VERSION = '20.18.1';

/** Parts of a `major.minor.patch` version; missing parts count as 0. */
function parts(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);
}

/** True when `version` (`20.20.2` or `v20.20.2`) is at least MIN_NODE_VERSION. */
export function nodeIsSupported(version: string): boolean {
  const have = parts(version);
  const need = parts(MIN_NODE_VERSION);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i]!;
    if (a !== b) return a > b;
  }
  return true;
}
