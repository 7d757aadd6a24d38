/**
 * Where a relay's or agent's CPU time goes, by phase of the request path, from a V8 CPU profile:
 * each sample's stack is walked from the sampled function towards the root, and the first frame a
 * rule below claims names the phase. Frames no rule claims (zod, JSON, Buffer, node:events, the
 * microtask queue…) are generic: their time goes to the nearest caller a rule claims, so zod
 * under the frame decoder counts as frame decoding and zod under the request schema as
 * validation. `(idle)` is left out; a stack no rule claims is "other".
 *
 * Frames are matched by their source: a repository path for our code (`relay/src/…`, resolved
 * through the bundle's source map), `node_modules/<package>/…` for packages, `node:…` for Node's
 * own modules, the URL otherwise; and by function name for natives and V8's pseudo-frames.
 */

export const PHASES = {
  parse: 'HTTP parse and server (node:http, llhttp)',
  framework: 'Hono and @hono/node-server (Request, Context, middleware)',
  request: 'request handlers, body read and validation',
  auth: 'auth and limits (API key, client limits, rate limits)',
  routing: 'routing (router, balancer, sticky, cooldown)',
  proxy: 'exchange and consumer writer (proxy/, SSE framing)',
  tunnel: 'tunnel (sessions, stream table, credit)',
  frames: 'frame encode/decode (ws receiver/sender, shared frames)',
  upstream: 'bridge client (upstream/: its own HTTP/1.1 client; undici for probes)',
  writes: 'socket writes (writev, net, http outgoing)',
  reads: 'socket reads (onStreamRead, readable streams)',
  timers: 'timers',
  metering: 'metering, metrics and logging',
  gc: 'GC',
  program: 'native code outside any JS function ((program))',
  other: 'other',
} as const;
export type Phase = keyof typeof PHASES;

/** One frame of a sampled stack: its function and where it comes from (see the module header). */
export type Frame = { functionName: string; source: string };

type Rule = { phase: Phase; source?: RegExp; name?: RegExp };

/** In order: the first rule that matches a frame claims it. */
export const RULES: readonly Rule[] = [
  { phase: 'gc', name: /^\(garbage collector\)$/ },
  { phase: 'program', name: /^\(program\)$/ },
  // Native bindings: no source, only a name.
  {
    phase: 'writes',
    source: /^$/,
    name: /^(writev|writeBuffer|write(Utf8|Latin1|Ascii|Ucs2)String|shutdown)$/,
  },
  { phase: 'writes', source: /^node:internal\/stream_base_commons$/, name: /^write|^handleWriteReq$/ },
  { phase: 'reads', source: /^node:internal\/stream_base_commons$/, name: /^onStreamRead$/ },
  { phase: 'writes', source: /^node:(net|_http_outgoing|internal\/streams\/writable)$/ },
  { phase: 'reads', source: /^node:internal\/streams\/(readable|legacy|destroy)$/ },
  { phase: 'parse', source: /^node:(_http_server|_http_common|_http_incoming)$/ },
  { phase: 'parse', source: /^wasm:\/\// }, // undici's llhttp
  { phase: 'timers', source: /^node:internal\/timers$/ },
  { phase: 'framework', source: /^node_modules\/(hono|@hono\/node-server)\// },
  { phase: 'frames', source: /^node_modules\/ws\// },
  { phase: 'upstream', source: /^node_modules\/undici\// },
  { phase: 'metering', source: /^node_modules\/(pino|prom-client|sonic-boom|thread-stream)\// },
  // Our code, by concern (folder).
  { phase: 'frames', source: /^shared\/src\/(frames|data-frame|cork|close-codes)/ },
  {
    phase: 'auth',
    source: /^relay\/src\/(security\/(auth|auth-guard|connection-cap)\.|limits\/|store\/|admin-token)/,
  },
  { phase: 'routing', source: /^relay\/src\/routing\// },
  {
    // The answer's translators count with the proxy: the bytes from the agent to the consumer.
    phase: 'proxy',
    source:
      /^relay\/src\/(proxy\/|consumer\/([a-z]+\/)?([a-z-]+-answer|[a-z-]+-request|tool-|answer-limits|sse|translated))/,
  },
  { phase: 'tunnel', source: /^(relay|bridge-agent)\/src\/tunnel\// },
  { phase: 'upstream', source: /^bridge-agent\/src\/upstream\// },
  { phase: 'metering', source: /^relay\/src\/(usage|metrics|log)\/|^bridge-agent\/src\/logging/ },
  { phase: 'request', source: /^relay\/src\/(consumer|admin|http|security|cluster)\// },
];

/** The phase a frame belongs to, or undefined for a generic frame (its caller decides). */
export function phaseOfFrame(frame: Frame): Phase | undefined {
  for (const rule of RULES) {
    if (rule.source && !rule.source.test(frame.source)) continue;
    if (rule.name && !rule.name.test(frame.functionName)) continue;
    return rule.phase;
  }
  return undefined;
}

/** The phase of a sampled stack, sampled function first; undefined for `(idle)`. */
export function phaseOfStack(stack: readonly Frame[]): Phase | undefined {
  if (stack[0]?.functionName === '(idle)') return undefined;
  for (const frame of stack) {
    const phase = phaseOfFrame(frame);
    if (phase) return phase;
  }
  return 'other';
}

/** The parts of a `.cpuprofile` this module reads. */
export type ProfileTree = {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
};

export type PhaseTotals = {
  /** Sampled time not idle, in µs. */
  busyUs: number;
  idleUs: number;
  /** µs per phase; sums to busyUs. */
  byPhase: Record<Phase, number>;
};

/** Maps a profile's call frame to the `source` of a Frame; the default is sourceOfUrl. */
export type SourceOf = (callFrame: ProfileTree['nodes'][number]['callFrame']) => string;

/**
 * A script URL as a Frame source: `relay/src/…` for our sources, `node_modules/<pkg>/…` for
 * packages, `node:…` as it is, anything else unchanged ('' for natives).
 */
export function sourceOfUrl(url: string): string {
  const ours = /(?:^|\/)((?:relay|bridge-agent|shared)\/src\/.*)$/.exec(url);
  if (ours && !url.includes('/node_modules/')) return ours[1]!;
  const pkg = /\/node_modules\/(.*)$/.exec(url);
  if (pkg) return `node_modules/${pkg[1]}`;
  return url;
}

/** Busy time of a profile by phase (idle excluded). */
export function phaseTotals(
  profile: ProfileTree,
  sourceOf: SourceOf = (f) => sourceOfUrl(f.url),
): PhaseTotals {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const phaseOfNode = new Map<number, Phase | undefined>();
  const classify = (id: number): Phase | undefined => {
    if (phaseOfNode.has(id)) return phaseOfNode.get(id);
    const stack: Frame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame) stack.push({ functionName: frame.functionName, source: sourceOf(frame) });
    }
    const phase = phaseOfStack(stack);
    phaseOfNode.set(id, phase);
    return phase;
  };
  const byPhase = Object.fromEntries(Object.keys(PHASES).map((p) => [p, 0])) as Record<Phase, number>;
  let busyUs = 0;
  let idleUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const phase = classify(id);
    if (phase === undefined) idleUs += dt;
    else {
      byPhase[phase] += dt;
      busyUs += dt;
    }
  });
  return { busyUs, idleUs, byPhase };
}

/** The parts of a sampling heap profile's tree this module reads. */
export type AllocationTree = {
  callFrame: ProfileTree['nodes'][number]['callFrame'];
  selfSize: number;
  children: AllocationTree[];
};

/** Sampled bytes allocated by phase (the same rules as for CPU), and their sum. */
export function allocationTotals(
  head: AllocationTree,
  sourceOf: SourceOf = (f) => sourceOfUrl(f.url),
): { bytes: number; byPhase: Record<Phase, number> } {
  const byPhase = Object.fromEntries(Object.keys(PHASES).map((p) => [p, 0])) as Record<Phase, number>;
  let bytes = 0;
  const walk = (node: AllocationTree, callers: Frame[]) => {
    const stack = [
      { functionName: node.callFrame.functionName, source: sourceOf(node.callFrame) },
      ...callers,
    ];
    if (node.selfSize > 0) {
      byPhase[phaseOfStack(stack) ?? 'other'] += node.selfSize;
      bytes += node.selfSize;
    }
    for (const child of node.children) walk(child, stack);
  };
  walk(head, []);
  return { bytes, byPhase };
}
