/**
 * Guards the layout: no import cycle between relay/src's folders. The graph is built from the
 * source files themselves (every relative `import`/`export … from` that is not type-only, tests
 * excluded): a module of one folder importing one of another is an edge between the folders, and
 * any cycle fails with the imports that make it up. Type-only imports are erased at run time and
 * do not count (http/context.ts names every service's type, by design). Files at the root of
 * relay/src (app.ts, server.ts, …) are nodes of their own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')
      ? [path]
      : [];
  });
}

const IMPORT = /^(?:import|export)\s+([^;]*?)\s*from\s*'(\.{1,2}\/[^']+)'/gms;

/** True for `import type …`, `export type …` and a brace list of nothing but `type` names. */
function typeOnly(clause: string): boolean {
  if (/^type\s/.test(clause)) return true;
  const braces = /^\{([^}]*)\}$/.exec(clause.trim());
  return (
    braces !== null &&
    braces[1]!.split(',').every((name) => name.trim() === '' || /^type\s/.test(name.trim()))
  );
}

/** The folder (or root file) of a path under relay/src. */
function nodeOf(path: string): string {
  return relative(SRC, path).split('/')[0]!;
}

/** folder → folder → one import that makes the edge (file and specifier, for the message). */
function folderGraph(files: readonly string[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of files) {
    for (const [, clause, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (typeOnly(clause!)) continue;
      const from = nodeOf(file);
      const to = nodeOf(resolve(dirname(file), specifier!));
      if (from === to || to.startsWith('..')) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      graph.get(from)!.set(to, `${relative(SRC, file)} → ${specifier}`);
    }
  }
  return graph;
}

/** One cycle per strongly connected component larger than one node (Tarjan), as its nodes. */
function cycles(graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    for (const to of graph.get(node)?.keys() ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('folder import graph of relay/src', () => {
  it('has no cycle between folders', () => {
    const graph = folderGraph(sourceFiles(SRC));
    // The graph is real: the API folders import the layers below them.
    expect(graph.get('consumer')?.has('proxy')).toBe(true);
    const explained = cycles(graph).map((component) =>
      component.flatMap((from) =>
        [...(graph.get(from) ?? [])].filter(([to]) => component.includes(to)).map(([, why]) => why),
      ),
    );
    expect(explained).toEqual([]);
  });

  it('finds a cycle when there is one, and ignores type-only imports', () => {
    const graph = new Map([
      ['a', new Map([['b', 'a/x.ts → ../b/y.js']])],
      ['b', new Map([['c', '']])],
      ['c', new Map([['a', '']])],
      ['d', new Map([['a', '']])],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c']]);
    expect(typeOnly('type { A }')).toBe(true);
    expect(typeOnly('{ type A, type B }')).toBe(true);
    expect(typeOnly('{ type A, b }')).toBe(false);
    expect(typeOnly('* as x')).toBe(false);
  });
});
