/**
 * What a scenario reports: lines of text, tables and target checks, rendered once for the
 * terminal and once as Markdown for docs/performance.md.
 */

/**
 * The targets (issue 12, and issue 24's done-when for the slow-stream and LMArena-paced loads), in
 * the order they are summarised. Every comparison is with a baseline measured in the same run.
 */
export const TARGETS = {
  ratio50: 'streams/s ×direct at c=50 above ssh -R’s and ≥ 0.65 (stretch 0.75)',
  ttfb1: 'added TTFB p50 at c=1 ≤ ssh -R’s',
  slowP99: 'added inter-chunk p99 at 200 slow streams ≤ 1.5 ms',
  slowCpu: 'CPU per second at 200 slow streams, relay and agent each ≤ ssh -R’s hop (sshd, ssh)',
  cpu50: 'CPU µs per stream at c=50, entry + exit hop ≤ ssh -R’s',
  alloc50: 'bytes allocated per relayed chunk at c=50 ≤ 1 KB, relay and agent each',
  allocSlow: 'bytes allocated per relayed chunk at 200 slow streams ≤ 1 KB, relay and agent each',
  loadP99: 'added inter-chunk p99 at 500 LMArena-paced streams (4 agents) ≤ 5 ms',
  loadRss: 'relay RSS per open stream at 500 LMArena-paced streams ≤ 16 KiB',
  crossCpu: 'cross-relay CPU per chunk (relays, Redis, agents) ≤ 1.5 × local at 500 LMArena-paced streams',
  idleRss: 'relay RSS per idle agent at 10 000 agents ≤ 20 KiB',
  churnRss: 'relay RSS after 10 000 reconnects within 10 % of before',
} as const;
export type TargetId = keyof typeof TARGETS;

export type Table = { head: string[]; rows: string[][] };
export type Block = string | Table;
export type Check = { target: TargetId; value: string; pass: boolean };

/**
 * `facts`: figures by name (`ratio50.ssh -R`, `phase.relay c=50.writes`…), kept in
 * bench/out/last-run.json so that docs/performance.md's explanations can quote them.
 */
export type Section = {
  id: string;
  title: string;
  blocks: Block[];
  checks: Check[];
  facts?: Record<string, number>;
};

const isTable = (block: Block): block is Table => typeof block !== 'string';

/** Columns padded to width; the first left-aligned, the rest right-aligned. */
function textTable(table: Table): string[] {
  const widths = table.head.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(table.head), ...table.rows.map(line)];
}

export const checkLine = (check: Check): string =>
  `${check.pass ? 'PASS' : 'MISS'}  ${TARGETS[check.target]}: ${check.value}`;

export function renderText(section: Section): string {
  const out = [`\n== ${section.title}`];
  for (const block of section.blocks) out.push(...(isTable(block) ? textTable(block) : [block]));
  for (const check of section.checks) out.push(checkLine(check));
  return out.join('\n');
}

function markdownTable(table: Table): string[] {
  const row = (cells: string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [
    row(table.head),
    `|${table.head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...table.rows.map(row),
  ];
}

export function renderMarkdown(section: Section): string {
  const out = [`### ${section.title}`, ''];
  for (const block of section.blocks) {
    if (isTable(block)) out.push(...markdownTable(block), '');
    else out.push(block, '');
  }
  for (const check of section.checks)
    out.push(`- **${check.pass ? 'PASS' : 'MISS'}** ${TARGETS[check.target]}: ${check.value}`);
  if (section.checks.length) out.push('');
  return out.join('\n');
}
