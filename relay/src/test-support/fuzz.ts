/** For fuzz tests: how many runs, and a property of one arbitrary checked by `expect`s. */
import fc from 'fast-check';

/** Runs of a fuzz property: at least `floor`, more when FUZZ_RUNS asks for more. */
export function fuzzRuns(floor = 10_000): number {
  return Math.max(floor, Number(process.env.FUZZ_RUNS) || 0);
}

/** Asserts that `check` (it throws, or fails an `expect`, when it does not hold) holds for `numRuns` values. */
export function holdsFor<T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => unknown, numRuns: number): void {
  fc.assert(
    fc.property(arbitrary, (value) => {
      check(value);
    }),
    { numRuns },
  );
}
