/**
 * A hostile agent's answer, sent as an honest agent sends one — in frames of a given size, within
 * the relay's credit — for as long as the relay keeps granting credit: the size of the answer is
 * what the agent could push, the bytes sent what the relay let in before it said stop. Also the
 * figures a test asserts on: the relay's (this process's) peak RSS growth and the longest
 * event-loop stall while the answer went through.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseRelayFrame } from '@arena-relay/shared';
import type { RawAgent } from './raw-agent.js';

export type Pumped = {
  /** Payload bytes the relay let in. */
  sent: number;
  /** The relay's cancel reason, when it cancelled the stream. */
  cancelled: string | undefined;
};

/**
 * Sends the payloads of `frames` on `stream` within credit (the welcome's window, then each
 * `credit` frame), until they run out or the relay cancels the stream (or the socket closes).
 */
export async function pumpAnswer(agent: RawAgent, stream: number, frames: Iterable<Buffer>): Promise<Pumped> {
  const welcome = agent.frames.find((f) => f.type === 'welcome');
  if (welcome?.type !== 'welcome') throw new Error('the agent has no welcome');
  let credit = welcome.streamWindow;
  let cancelled: string | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const onMessage = (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const parsed = parseRelayFrame(data.toString());
    if (!parsed.ok || !('stream' in parsed.frame) || parsed.frame.stream !== stream) return;
    if (parsed.frame.type === 'credit') credit += parsed.frame.bytes;
    else if (parsed.frame.type === 'cancel') cancelled = parsed.frame.reason ?? '';
    wake?.();
  };
  const onClose = () => {
    closed = true;
    wake?.();
  };
  agent.ws.on('message', onMessage);
  agent.ws.on('close', onClose);
  let sent = 0;
  try {
    for (const payload of frames) {
      while (credit < payload.length && cancelled === undefined && !closed) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (cancelled !== undefined || closed) break;
      credit -= payload.length;
      agent.data(stream, payload);
      sent += payload.length;
    }
  } finally {
    agent.ws.off('message', onMessage);
    agent.ws.off('close', onClose);
  }
  return { sent, cancelled };
}

/** `count` frames of `size` bytes: `first` (padded with `fill`), then `fill` throughout. */
export function* framesOf(first: string, fill: string, size: number, count: number): Generator<Buffer> {
  const head = Buffer.from(first);
  yield Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), fill)]);
  const body = Buffer.alloc(size, fill);
  for (let i = 1; i < count; i++) yield body;
}

/** SSE chat completion chunk events, each about `size` bytes, whose contents are `first`, then `fill`s. */
export function* contentEvents(first: string, fill: string, size: number, count: number): Generator<Buffer> {
  const event = (content: string) =>
    Buffer.from(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`);
  const overhead = event('').length;
  yield event(first);
  const body = event(fill.repeat(Math.ceil((size - overhead) / fill.length)).slice(0, size - overhead));
  for (let i = 1; i < count; i++) yield body;
}

export type Watch = {
  /** Stops watching; the peak RSS growth in MiB and the longest event-loop stall in ms. */
  stop(): { rssGrowthMiB: number; maxDelayMs: number };
};

/** Watches this process's RSS (sampled every 20 ms) and event-loop delay from now on. */
export function watchProcess(): Watch {
  const base = process.memoryUsage.rss();
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  return {
    stop() {
      clearInterval(sampler);
      delay.disable();
      peak = Math.max(peak, process.memoryUsage.rss());
      return { rssGrowthMiB: (peak - base) / 2 ** 20, maxDelayMs: delay.max / 1e6 };
    },
  };
}
