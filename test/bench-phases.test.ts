/**
 * The bench's per-phase CPU breakdown (bench/phases.ts): a synthetic CPU profile in, time per
 * phase out; and the source-map lookup that lets it see our modules inside a bundle.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { phaseMicros, phaseTable } from '../bench/instrumented.js';
import {
  type AllocationTree,
  allocationTotals,
  type Phase,
  type ProfileTree,
  phaseOfStack,
  phaseTotals,
  sourceOfUrl,
} from '../bench/phases.js';
import { sourceResolver } from '../bench/profile-sources.js';

const ROOT = 'file:///work/repo';

/** A profile from stacks written root first, each sampled for `us` µs. */
function profileOf(stacks: Array<{ frames: Array<[string, string]>; us: number }>): ProfileTree {
  const nodes: ProfileTree['nodes'] = [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [] },
  ];
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  for (const { frames, us } of stacks) {
    let parent = nodes[0]!;
    for (const [functionName, url] of frames) {
      const id = nodes.length + 1;
      const node = { id, callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 }, children: [] };
      nodes.push(node);
      parent.children!.push(id);
      parent = node;
    }
    // Two samples per stack, to check that they add up.
    samples.push(parent.id, parent.id);
    timeDeltas.push(us / 2, us / 2);
  }
  return { nodes, samples, timeDeltas };
}

const server: [string, string] = ['parserOnHeadersComplete', 'node:_http_common'];
const hono: [string, string] = ['compose', `${ROOT}/node_modules/hono/dist/compose.js`];
const zod: [string, string] = ['safeParse', `${ROOT}/node_modules/zod/v4/core/parse.js`];
const receiver: [string, string] = ['getData', `${ROOT}/node_modules/ws/lib/receiver.js`];

describe('bench phases', () => {
  it('gives each sample to the nearest frame a rule claims, idle left out', () => {
    const totals = phaseTotals(
      profileOf([
        { frames: [['(idle)', '']], us: 5000 },
        { frames: [['(garbage collector)', '']], us: 300 },
        { frames: [['(program)', '']], us: 200 },
        // zod is generic: under the chat schema it is validation, under the frame codec decoding.
        {
          frames: [server, hono, ['parseChat', `${ROOT}/relay/src/consumer/chat/chat-schema.ts`], zod],
          us: 1000,
        },
        { frames: [receiver, ['decodeFrame', `${ROOT}/shared/src/frames/codec.ts`], zod], us: 700 },
        { frames: [server, hono, ['authenticate', `${ROOT}/relay/src/security/auth.ts`]], us: 400 },
        { frames: [server, hono, ['pick', `${ROOT}/relay/src/routing/router.ts`]], us: 250 },
        {
          frames: [
            ['flush', `${ROOT}/relay/src/proxy/exchange.ts`],
            ['writev', ''],
          ],
          us: 900,
        },
        {
          frames: [
            ['emit', 'node:events'],
            ['onStreamRead', 'node:internal/stream_base_commons'],
          ],
          us: 150,
        },
        { frames: [server, hono, ['JSON.parse', '']], us: 100 },
        { frames: [server], us: 60 },
        { frames: [['main', `${ROOT}/scripts/elsewhere.js`]], us: 40 },
      ]),
    );
    const expected: Partial<Record<Phase, number>> = {
      gc: 300,
      program: 200,
      request: 1000,
      frames: 700,
      auth: 400,
      routing: 250,
      writes: 900,
      reads: 150,
      framework: 100,
      parse: 60,
      other: 40,
    };
    for (const [phase, us] of Object.entries(totals.byPhase))
      expect([phase, us]).toEqual([phase, expected[phase as Phase] ?? 0]);
    expect(totals.idleUs).toBe(5000);
    expect(totals.busyUs).toBe(4100);
  });

  it('gives sampled allocations to phases by the same rules', () => {
    const node = (
      frame: [string, string],
      selfSize: number,
      children: AllocationTree[] = [],
    ): AllocationTree => ({
      callFrame: { functionName: frame[0], url: frame[1], lineNumber: 0, columnNumber: 0 },
      selfSize,
      children,
    });
    const head = node(['(root)', ''], 0, [
      node(receiver, 64, [node(['decodeFrame', `${ROOT}/shared/src/data-frame.ts`], 0, [node(zod, 4096)])]),
      node(server, 512, [node(hono, 2048, [node(['pick', `${ROOT}/relay/src/routing/router.ts`], 128)])]),
      node(['(V8 API)', ''], 32),
    ]);
    const { bytes, byPhase } = allocationTotals(head);
    expect(bytes).toBe(64 + 4096 + 512 + 2048 + 128 + 32);
    expect(byPhase.frames).toBe(64 + 4096);
    expect(byPhase.parse).toBe(512);
    expect(byPhase.framework).toBe(2048);
    expect(byPhase.routing).toBe(128);
    expect(byPhase.other).toBe(32);
  });

  it('scales phase shares to the CPU the process used, per stream', () => {
    const totals = phaseTotals(
      profileOf([
        { frames: [['(garbage collector)', '']], us: 250 },
        { frames: [['pick', `${ROOT}/relay/src/routing/router.ts`]], us: 750 },
      ]),
    );
    // 1 000 µs sampled, but the process used 40 ms of CPU for 100 streams: 400 µs per stream.
    const column = { label: 'relay c=50', totals, cpuMs: 40, streams: 100 };
    expect(phaseMicros(column, 'gc')).toBeCloseTo(100);
    expect(phaseMicros(column, 'routing')).toBeCloseTo(300);
    const table = phaseTable([column]);
    expect(table.rows.map((r) => r[1])).toEqual(['300 µs · 75 %', '100 µs · 25 %', '10 µs', '400 µs']);
  });

  it('claims natives by name only when no script is behind them', () => {
    expect(phaseOfStack([{ functionName: 'writev', source: '' }])).toBe('writes');
    expect(phaseOfStack([{ functionName: 'writev', source: 'relay/src/proxy/x.ts' }])).toBe('proxy');
    expect(phaseOfStack([{ functionName: '(idle)', source: '' }])).toBeUndefined();
    expect(phaseOfStack([])).toBe('other');
  });

  it('names sources by repository path or package', () => {
    expect(sourceOfUrl(`${ROOT}/bridge-agent/src/tunnel/stream-hub.ts`)).toBe(
      'bridge-agent/src/tunnel/stream-hub.ts',
    );
    expect(sourceOfUrl(`${ROOT}/node_modules/ws/lib/sender.js`)).toBe('node_modules/ws/lib/sender.js');
    expect(sourceOfUrl('node:net')).toBe('node:net');
  });

  const dir = mkdtempSync(join(tmpdir(), 'bench-phases-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sees our modules inside a bundle through its source map', async () => {
    mkdirSync(join(dir, 'relay/src/routing'), { recursive: true });
    writeFileSync(
      join(dir, 'relay/src/routing/pick.ts'),
      'export function pick(n: number) {\n  return n * 2;\n}\n',
    );
    writeFileSync(
      join(dir, 'relay/src/cli.ts'),
      "import { pick } from './routing/pick.js';\nexport function main() {\n  return pick(21);\n}\n",
    );
    const outfile = join(dir, 'out/relay.js');
    await build({
      absWorkingDir: dir,
      entryPoints: ['relay/src/cli.ts'],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      sourcemap: true,
      logLevel: 'silent',
    });
    const lines = readFileSync(outfile, 'utf8').split('\n');
    const at = (name: string) => {
      const lineNumber = lines.findIndex((l) => l.startsWith(`function ${name}(`));
      expect(lineNumber).toBeGreaterThanOrEqual(0);
      return { functionName: name, url: pathToFileURL(outfile).href, lineNumber, columnNumber: 0 };
    };
    const sourceOf = sourceResolver();
    expect(sourceOf(at('pick'))).toBe('relay/src/routing/pick.ts');
    expect(sourceOf(at('main'))).toBe('relay/src/cli.ts');
    // No map beside a script: its URL is all there is.
    expect(
      sourceOf({ functionName: 'f', url: `${ROOT}/elsewhere/x.js`, lineNumber: 0, columnNumber: 0 }),
    ).toBe(`${ROOT}/elsewhere/x.js`);
  });
});
