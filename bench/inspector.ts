/**
 * A small Chrome DevTools Protocol client for the inspector of a relay or agent started with
 * `--inspect=127.0.0.1:0`: a full GC before a memory reading, bytes allocated over a window
 * (v8.GCProfiler in the target, no profiler attached), and CPU profiles of a window.
 */
import { WebSocket } from 'ws';
import type { ProfileTree } from './phases.js';

type Reply = { id?: number; result?: unknown; error?: { message: string } };

/** One session on a process's inspector; `send` resolves with the method's result. */
export class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const reply = JSON.parse(String(data)) as Reply;
      const waiting = reply.id === undefined ? undefined : this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id!);
      if (reply.error) waiting.reject(new Error(`inspector: ${reply.error.message}`));
      else waiting.resolve(reply.result);
    });
    ws.on('close', () => {
      for (const waiting of this.pending.values()) waiting.reject(new Error('inspector: session closed'));
      this.pending.clear();
    });
  }

  /** Opens a session; rejects when the inspector cannot be reached within `timeoutMs`. */
  static open(url: string, timeoutMs = 10_000): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`inspector ${url}: no session within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new InspectorSession(ws));
      });
    });
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluates `expression` in the target's main context (`require` available); its value. */
  async evaluate<T>(expression: string): Promise<T> {
    type Evaluated = {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    const reply = await this.send<Evaluated>('Runtime.evaluate', {
      expression,
      includeCommandLineAPI: true,
      returnByValue: true,
      awaitPromise: true,
    });
    const thrown = reply.exceptionDetails;
    if (thrown)
      throw new Error(`inspector: ${thrown.exception?.description ?? thrown.text} in ${expression}`);
    return reply.result.value as T;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Runs `work` in a fresh session on `url`, closed afterwards. */
export async function withSession<T>(url: string, work: (s: InspectorSession) => Promise<T>): Promise<T> {
  const session = await InspectorSession.open(url);
  try {
    return await work(session);
  } finally {
    session.close();
  }
}

/** Asks the process behind an inspector URL for a full GC; false when it could not. */
export function collectGarbage(url: string): Promise<boolean> {
  return withSession(url, (s) => s.send('HeapProfiler.collectGarbage')).then(
    () => true,
    () => false,
  );
}

const SLOT = "globalThis[Symbol.for('arena-bench.allocation')]";

/** What a process allocated over a window, and the GC pauses of its main thread meanwhile. */
export type AllocationCount = { bytes: number; gcs: number; pauseTotalUs: number; pauseMaxUs: number };

/**
 * Starts counting the bytes a process allocates on its V8 heap; the returned function stops and
 * gives the count. Allocated = heap in use at the end − at the start + what every GC in between
 * freed (v8.GCProfiler's before/after of each GC), so it needs no allocation profiler and
 * counts every object, collected or not. Off-heap memory (Buffer contents) is not counted.
 */
export async function countAllocation(url: string): Promise<() => Promise<AllocationCount>> {
  await withSession(url, (s) =>
    s.evaluate(`(() => {
      const v8 = require('v8');
      const profiler = new v8.GCProfiler();
      profiler.start();
      ${SLOT} = { profiler, used: v8.getHeapStatistics().used_heap_size };
      return true;
    })()`),
  );
  return () =>
    withSession(url, (s) =>
      s.evaluate<AllocationCount>(`(() => {
        const v8 = require('v8');
        const used = v8.getHeapStatistics().used_heap_size;
        const { profiler, used: before } = ${SLOT};
        const gcs = profiler.stop().statistics;
        let freed = 0, pauseTotalUs = 0, pauseMaxUs = 0;
        for (const gc of gcs) {
          freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
          pauseTotalUs += gc.cost;
          pauseMaxUs = Math.max(pauseMaxUs, gc.cost);
        }
        ${SLOT} = undefined;
        return { bytes: used - before + freed, gcs: gcs.length, pauseTotalUs, pauseMaxUs };
      })()`),
    );
}

/** A V8 CPU profile (the `.cpuprofile` format): a call tree and the sampled leaf of each tick. */
export type CpuProfile = ProfileTree & { startTime: number; endTime: number };

/**
 * Starts the CPU profiler of the process behind `url` (one sample every `intervalUs`); the
 * returned function stops it and gives the profile. The session stays open in between (the
 * profiler belongs to it).
 */
export async function startCpuProfile(url: string, intervalUs = 500): Promise<() => Promise<CpuProfile>> {
  const session = await InspectorSession.open(url);
  try {
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.send('Profiler.start');
  } catch (error) {
    session.close();
    throw error;
  }
  return async () => {
    try {
      return (await session.send<{ profile: CpuProfile }>('Profiler.stop')).profile;
    } finally {
      session.close();
    }
  };
}

/** A V8 sampling heap profile: a call tree whose nodes carry the sampled bytes allocated there. */
export type HeapNode = {
  callFrame: CpuProfile['nodes'][number]['callFrame'];
  selfSize: number;
  id: number;
  children: HeapNode[];
};

/**
 * Starts sampling the allocations of the process behind `url` (one sample per `intervalBytes` on
 * average), counting objects a GC has since collected as well; the returned function stops and
 * gives the tree. The session stays open in between (the sampler belongs to it).
 */
export async function startAllocationSampling(
  url: string,
  intervalBytes = 8192,
): Promise<() => Promise<HeapNode>> {
  const session = await InspectorSession.open(url);
  try {
    await session.send('HeapProfiler.startSampling', {
      samplingInterval: intervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  } catch (error) {
    session.close();
    throw error;
  }
  return async () => {
    try {
      return (await session.send<{ profile: { head: HeapNode } }>('HeapProfiler.stopSampling')).profile.head;
    } finally {
      session.close();
    }
  };
}
