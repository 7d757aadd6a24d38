/**
 * Write coalescing: corks a stream until the end of the current event-loop turn (setImmediate
 * runs right after the poll phase), so everything written while handling one turn's socket reads
 * — frames of many streams, chunk after chunk — leaves in one writev instead of one syscall
 * each. Profiles of the bench showed writev as the largest cost on both hops; the added latency
 * is zero turns.
 */

export type Corkable = { cork(): void; uncork(): void };

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
    setImmediate(uncork);
  };
}
