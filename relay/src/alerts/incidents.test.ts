/** The incident book: one message per incident and one per recovery, none while a condition flaps. */
import { describe, expect, it } from 'vitest';
import { type Condition, emptyBook, evaluate, type IncidentBook, parseBook } from './incidents.js';

const MIN = 60_000;
const timing = {
  thresholdMs: (rule: string) => (rule === 'slow' ? 10 * MIN : 5 * MIN),
  settleMs: 2 * MIN,
  quietMs: 30 * MIN,
};
const down: Condition = {
  key: 'bridge_not_serving:cl_1',
  rule: 'bridge_not_serving',
  severity: 'warning',
  title: "Alice's bridge is not serving: cloudflare_challenge",
  text: 'Pass the check in the browser.',
  recoveredTitle: "Alice's bridge serves again",
  labels: { client: 'cl_1' },
  ownerClientId: 'cl_1',
};

/** Runs evaluations every `stepMs` from `from` while `present(t)` says whether the condition is seen. */
function run(book: IncidentBook, from: number, to: number, stepMs: number, present: (t: number) => boolean) {
  const sent: Array<{ at: number; kind: string; id: string }> = [];
  let n = 0;
  for (let t = from; t <= to; t += stepMs) {
    const result = evaluate(book, present(t) ? [down] : [], t, timing, () => `alr_${++n}`);
    book = result.book;
    for (const a of result.announce) sent.push({ at: t, kind: a.alert.kind, id: a.alert.id });
  }
  return { book, sent };
}

describe('incidents', () => {
  it('announces once after the threshold and recovers once after the settle time', () => {
    const { sent } = run(emptyBook(), 0, 60 * MIN, 15_000, (t) => t < 20 * MIN);
    expect(sent).toEqual([
      { at: 5 * MIN, kind: 'incident', id: 'alr_1' },
      { at: 22 * MIN, kind: 'recovery', id: 'alr_1' },
    ]);
  });

  it('a condition shorter than its threshold says nothing', () => {
    expect(run(emptyBook(), 0, 60 * MIN, 15_000, (t) => t < 4 * MIN).sent).toEqual([]);
  });

  it('a flapping bridge does not storm: on and off every minute for an hour', () => {
    // Down 45 s of every minute: never 5 minutes in a row, never announced.
    expect(run(emptyBook(), 0, 60 * MIN, 15_000, (t) => t % MIN < 45_000).sent).toEqual([]);
    // Down for 6 minutes, then flapping: one incident; gaps shorter than the settle time do not recover it.
    const { sent } = run(emptyBook(), 0, 60 * MIN, 15_000, (t) => t < 6 * MIN || t % MIN < 45_000);
    expect(sent).toEqual([{ at: 5 * MIN, kind: 'incident', id: 'alr_1' }]);
  });

  it('a key that recovered does not open again within the quiet time', () => {
    const present = (t: number) => t < 10 * MIN || (t >= 15 * MIN && t < 40 * MIN) || t >= 70 * MIN;
    const { sent } = run(emptyBook(), 0, 120 * MIN, 15_000, present);
    expect(sent.map((s) => `${s.kind}@${s.at / MIN}`)).toEqual([
      'incident@5',
      'recovery@12',
      // Back at 15: quiet until 42, but it cleared at 40 — nothing. Back at 70: a new incident at 75.
      'incident@75',
    ]);
  });

  it('survives a restart: the stored book neither repeats the incident nor loses the recovery', () => {
    const first = run(emptyBook(), 0, 8 * MIN, 15_000, () => true);
    expect(first.sent).toHaveLength(1);
    const stored = parseBook(JSON.stringify(first.book));
    const second = run(stored, 8 * MIN, 30 * MIN, 15_000, (t) => t < 12 * MIN);
    expect(second.sent.map((s) => s.kind)).toEqual(['recovery']);
    expect(second.sent[0]?.id).toBe(first.sent[0]?.id);
  });

  it('reads a hostile stored book as empty, entry by entry', () => {
    expect(parseBook('not json')).toEqual(emptyBook());
    expect(parseBook('[]')).toEqual(emptyBook());
    expect(
      parseBook(
        JSON.stringify({
          open: { a: { key: 'b', since: 1, last: down }, c: 7 },
          recovered: { x: 'y', z: 5 },
        }),
      ),
    ).toEqual({ open: {}, recovered: { z: 5 } });
  });
});
