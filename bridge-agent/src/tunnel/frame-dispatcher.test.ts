/** The frame dispatcher: each kind reaches its one route; nothing a route throws escapes. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging.js';
import { type FrameRoutes, frameDispatcher } from './frame-dispatcher.js';

function routesRecording(calls: string[]): FrameRoutes {
  const note = (kind: string) => (link: number) => void calls.push(`${kind}@${link}`);
  return {
    open: note('open'),
    cancel: note('cancel'),
    credit: note('credit'),
    drain: note('drain'),
    health: note('health'),
    goaway: note('goaway'),
    capacity: note('capacity'),
    update: note('update'),
    settings: () => {
      throw new Error('a broken handler');
    },
    body: (link, stream, payload) => void calls.push(`body@${link}:${stream}:${payload.toString()}`),
  };
}

describe('frameDispatcher', () => {
  it('routes each kind to its handler with the link, and logs (not throws) what a handler throws', () => {
    const calls: string[] = [];
    const lines: { msg: string; event?: string }[] = [];
    const logger = createLogger({
      level: 'error',
      destination: { write: (text: string) => void lines.push(JSON.parse(text) as { msg: string }) },
    });
    const dispatch = frameDispatcher(routesRecording(calls), logger);
    dispatch.frame(3, { type: 'goaway', graceMs: 10 });
    dispatch.frame(1, { type: 'credit', stream: 5, bytes: 10 });
    dispatch.body(2, 7, Buffer.from('xy'));
    expect(() => dispatch.frame(1, { type: 'settings' })).not.toThrow();
    expect(calls).toEqual(['goaway@3', 'credit@1', 'body@2:7:xy']);
    expect(lines).toEqual([expect.objectContaining({ msg: 'relay frame handler threw', event: 'settings' })]);
  });
});
