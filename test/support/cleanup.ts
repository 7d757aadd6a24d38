/** Closes everything a test started, even when the test fails. */
import { afterEach } from 'vitest';

type Closable = { close(): Promise<void> | void };
const open: Closable[] = [];

afterEach(async () => {
  const items = open.splice(0).reverse();
  for (const item of items) await item.close();
});

/** Registers `item` to be closed after the current test; returns it. */
export function track<T extends Closable>(item: T): T {
  open.push(item);
  return item;
}
