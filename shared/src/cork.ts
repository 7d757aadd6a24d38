/**
 * Write coalescing: corks a stream until the end of the current event-loop turn (setImmediate
 * runs right after the poll phase), so everything written while handling one turn's socket reads
 * — frames of many streams, chunk after chunk — leaves in one writev instead of one syscall
 * each. Profiles of the bench showed writev as the largest cost on both hops; the added latency
 * is zero turns. Every stream corked in a turn is uncorked by one shared setImmediate: with
 * hundreds of slow streams each getting one chunk a turn, one Immediate (and one pass over the
 * nextTick queue after it) per turn, not one per stream.
 */

export type Corkable = { cork(): void; uncork(): void };

/** Uncorks of this turn; swapped with `spare` when they run, so no array is allocated per turn. */
let due: Array<() => void> = [];
let spare: Array<() => void> = [];
let scheduled = false;

function uncorkTurn(): void {
  const run = due;
  due = spare;
  spare = run;
  scheduled = false;
  let failure: { error: unknown } | undefined;
  for (let i = 0; i < run.length; i++) {
    try {
      run[i]!();
    } catch (error) {
      // Every other stream still uncorks; the first error is thrown after, as its own would have been.
      failure ??= { error };
    }
  }
  run.length = 0;
  if (failure) throw failure.error;
}

/** Returns a function to call before each write: the first call in a turn corks, the turn's end uncorks. */
export function tickCorker(stream: Corkable): () => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  return () => {
    if (corked) return;
    corked = true;
    stream.cork();
    due.push(uncork);
    if (!scheduled) {
      scheduled = true;
      setImmediate(uncorkTurn);
    }
  };
}
