/**
 * Health round trips awaiting the agent's answer: each call sends `{type:'health', id}` and
 * settles with the agent's answer (which carries its bridge probe), or undefined on timeout or
 * when the socket goes away first.
 */
import type { HealthFrame } from '@arena-relay/shared';

type Settle = (answer: HealthFrame | undefined) => void;

export class HealthCalls {
  private readonly waiters = new Map<string, Settle>();
  private next = 1;

  /** `prefix` makes the ids unique across sessions (the session id). */
  constructor(private readonly prefix: string) {}

  /** Calls in flight. */
  get size(): number {
    return this.waiters.size;
  }

  call(send: (frame: HealthFrame) => void, timeoutMs: number): Promise<HealthFrame | undefined> {
    const id = `${this.prefix}.${this.next++}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      const settle: Settle = (answer) => {
        clearTimeout(timer);
        this.waiters.delete(id);
        resolve(answer);
      };
      this.waiters.set(id, settle);
      send({ type: 'health', id });
    });
  }

  /** The agent answered. Unsolicited or late answers are harmless: no waiter, nothing happens. */
  answer(frame: HealthFrame): void {
    this.waiters.get(frame.id)?.(frame);
  }

  /** The socket is gone: every call settles with undefined. */
  cancelAll(): void {
    for (const settle of [...this.waiters.values()]) settle(undefined);
  }
}
