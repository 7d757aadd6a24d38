/**
 * Where a profiled function comes from, for bench/phases.ts: a frame in a bundle (bench/out/dist/
 * relay.js…) is mapped through the bundle's source map (esbuild writes `<bundle>.map`) to the
 * source file it was bundled from; every other URL is taken as it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type SourceOf, sourceOfUrl } from './phases.js';

/** A SourceOf that reads each bundle's source map once (none: the URL decides). */
export function sourceResolver(): SourceOf {
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (url: string): SourceMap | undefined => {
    if (maps.has(url)) return maps.get(url);
    let map: SourceMap | undefined;
    try {
      const file = `${fileURLToPath(url)}.map`;
      if (url.endsWith('.js') && existsSync(file))
        map = new SourceMap(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(url, map);
    return map;
  };
  return (frame) => {
    const map = frame.url.startsWith('file:') ? mapOf(frame.url) : undefined;
    if (!map) return sourceOfUrl(frame.url);
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
    return sourceOfUrl(entry.originalSource ?? frame.url);
  };
}
