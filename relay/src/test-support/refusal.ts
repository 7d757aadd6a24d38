/** For tests: the RelayError a promise rejects with (fails the test when it resolves or throws another). */
import { expect } from 'vitest';
import { RelayError } from '../errors/relay-error.js';

export async function refusal(promise: Promise<unknown>): Promise<RelayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RelayError);
  return error as RelayError;
}
