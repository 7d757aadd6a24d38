/** CPU time and resident memory of processes, from Linux /proc, to say where a stream's cost goes. */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** user+system CPU of a process so far, in ms; 0 where /proc is unavailable. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) * TICK_MS : 0;
}

/** `pid` and every live descendant (sshd forks a process per connection, nginx its workers). */
export function processTree(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const parents = new Map<number, number>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const ppid = Number(statFields(Number(entry))?.[1]);
      if (Number.isFinite(ppid)) parents.set(Number(entry), ppid);
    }
  } catch {
    return [pid];
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** Resident set size of a process (VmRSS), in KiB; NaN where unavailable. */
export function rssKiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Read and write system calls a process made so far (`syscr` + `syscw` of /proc/<pid>/io: read,
 * readv, write, writev…); 0 where unavailable. Each send on loopback TCP also pays for the
 * receiver's side of the stack, so this count is most of a proxy's kernel cost.
 */
export function syscalls(pid: number): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Named groups of processes (a proxy may be several); CPU summed per group. */
export type CpuGroups = Record<string, readonly number[]>;

/** CPU (ms) and read/write system calls of each group while `work` runs. */
export async function measureCpu<T>(
  groups: CpuGroups,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: Record<string, number>; syscalls: Record<string, number> }> {
  const sum = (pids: readonly number[], of: (pid: number) => number) =>
    pids.reduce((n, pid) => n + of(pid), 0);
  const entries = Object.entries(groups);
  const cpuBefore = entries.map(([, pids]) => sum(pids, cpuMs));
  const callsBefore = entries.map(([, pids]) => sum(pids, syscalls));
  const result = await work();
  const cpu: Record<string, number> = {};
  const calls: Record<string, number> = {};
  entries.forEach(([name, pids], i) => {
    cpu[name] = sum(pids, cpuMs) - cpuBefore[i]!;
    calls[name] = sum(pids, syscalls) - callsBefore[i]!;
  });
  return { result, cpu, syscalls: calls };
}

/**
 * CPU time of the whole box so far, in ms summed over its cores: busy (every state but idle and
 * iowait) and total, from /proc/stat; zeros where unavailable. Two readings say how busy the
 * box was in between, whoever used it.
 */
export function boxCpuMs(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((n, t) => n + t, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
  } catch {
    return { busy: 0, total: 0 };
  }
}
