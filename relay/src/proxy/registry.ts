/** The exchanges in flight on this relay: for `GET /api/streams` and for draining on shutdown. */
import { EventEmitter } from 'node:events';
import type { ExchangeRequest } from './exchange-request.js';

export type ExchangeInfo = {
  /** The consumer request it serves. */
  readonly request: Pick<ExchangeRequest, 'requestId' | 'keyId' | 'model' | 'stream'>;
  startedAt: Date;
  readonly agentId: string | undefined;
  readonly clientId: string | undefined;
  readonly bytes: number;
};

export class ExchangeRegistry extends EventEmitter<{ idle: [] }> {
  private readonly live = new Set<ExchangeInfo>();

  add(exchange: ExchangeInfo): void {
    this.live.add(exchange);
  }

  delete(exchange: ExchangeInfo): void {
    if (this.live.delete(exchange) && this.live.size === 0) this.emit('idle');
  }

  get size(): number {
    return this.live.size;
  }

  list(): ExchangeInfo[] {
    return [...this.live];
  }

  /** Resolves when no exchange is in flight, or after `timeoutMs`; true when idle. */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.live.size === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.off('idle', onIdle);
        resolve(false);
      }, timeoutMs);
      const onIdle = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.once('idle', onIdle);
    });
  }
}
