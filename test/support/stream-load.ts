/**
 * Steady streaming load from the official `openai` client over several relays, spread the way a
 * load balancer spreads it: each request goes to the next relay in rotation. `withdraw` takes a
 * relay out of rotation and waits until every request sent to it has its answer's head (as a
 * balancer that stopped sending it new connections), so a SIGTERM after it finds streams only in
 * flight, never arriving. Every answer is read to its end and compared byte for byte with what
 * the bridge answers directly (request id and timestamps masked).
 */
import { EventEmitter } from 'node:events';
import OpenAI from 'openai';

/** The SSE body with the per-request id and timestamps masked, for byte comparison. */
export const normaliseSse = (sse: string) =>
  sse.replace(/chatcmpl-[0-9a-f-]{36}/g, 'chatcmpl-ID').replace(/"created": \d+/g, '"created": 0');

const REQUEST = {
  model: 'gpt-5',
  stream: true,
  messages: [{ role: 'user' as const, content: 'rolling' }],
};

/** The bytes a streamed answer must have (masked), read from the bridge answering directly. */
export async function expectedStream(bridgeUrl: string): Promise<string> {
  const res = await fetch(`${bridgeUrl}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify(REQUEST),
  });
  return normaliseSse(await res.text());
}

export type LoadReport = {
  started: number;
  ok: number;
  /** Requests the client saw fail (status, connection), with the relay and the reason. */
  failed: Array<{ relay: string; error: string }>;
  /** Answers whose bytes differ from the bridge's (a truncated stream among them). */
  mismatched: Array<{ relay: string; body: string }>;
};

export class StreamLoad {
  readonly report: LoadReport = { started: 0, ok: 0, failed: [], mismatched: [] };
  readonly #rotation: string[];
  readonly #clients = new Map<string, OpenAI>();
  /** Requests sent to a relay whose answer's head has not come yet. */
  readonly #awaitingHead = new Map<string, number>();
  /** Streams being read, by relay. */
  readonly #reading = new Map<string, number>();
  readonly #events = new EventEmitter();
  readonly #running = new Set<Promise<void>>();
  #next = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: { key: string; relays: string[]; perSecond: number; expected: string },
  ) {
    this.#rotation = [...options.relays];
  }

  start(): void {
    this.#timer = setInterval(() => this.#send(), 1000 / this.options.perSecond);
  }

  /** Answers complete so far, failed ones included. */
  get done(): number {
    return this.report.ok + this.report.failed.length + this.report.mismatched.length;
  }

  /** Streams being read from `relay` now. */
  reading(relay: string): number {
    return this.#reading.get(relay) ?? 0;
  }

  /** Resolves once `count` more answers have completed. */
  async completes(count: number): Promise<void> {
    const target = this.done + count;
    while (this.done < target) await new Promise((resolve) => this.#events.once('done', resolve));
  }

  /** Takes `relay` out of rotation; resolves once no request sent to it awaits its head. */
  async withdraw(relay: string): Promise<void> {
    const index = this.#rotation.indexOf(relay);
    if (index >= 0) this.#rotation.splice(index, 1);
    while ((this.#awaitingHead.get(relay) ?? 0) > 0) {
      await new Promise((resolve) => this.#events.once('head', resolve));
    }
  }

  /** Puts `relay` (back) in rotation. */
  admit(relay: string): void {
    if (!this.#rotation.includes(relay)) this.#rotation.push(relay);
  }

  /** Stops sending; resolves once every request sent has its whole answer. */
  async stop(): Promise<LoadReport> {
    clearInterval(this.#timer);
    while (this.#running.size > 0) await Promise.all([...this.#running]);
    return this.report;
  }

  #client(relay: string): OpenAI {
    let client = this.#clients.get(relay);
    if (!client) {
      client = new OpenAI({ baseURL: `${relay}/v1`, apiKey: this.options.key, maxRetries: 0 });
      this.#clients.set(relay, client);
    }
    return client;
  }

  #send(): void {
    if (this.#rotation.length === 0) return;
    const relay = this.#rotation[this.#next++ % this.#rotation.length]!;
    this.report.started++;
    const run = this.#one(relay).finally(() => {
      this.#running.delete(run);
      this.#events.emit('done');
    });
    this.#running.add(run);
  }

  async #one(relay: string): Promise<void> {
    const bump = (map: Map<string, number>, by: number) => map.set(relay, (map.get(relay) ?? 0) + by);
    bump(this.#awaitingHead, 1);
    let response: Response;
    try {
      response = await this.#client(relay).chat.completions.create(REQUEST).asResponse();
    } catch (error) {
      this.report.failed.push({ relay, error: String(error) });
      return;
    } finally {
      bump(this.#awaitingHead, -1);
      this.#events.emit('head');
    }
    bump(this.#reading, 1);
    try {
      const body = await response.text();
      if (normaliseSse(body) === this.options.expected) this.report.ok++;
      else this.report.mismatched.push({ relay, body });
    } catch (error) {
      this.report.failed.push({ relay, error: `while reading: ${String(error)}` });
    } finally {
      bump(this.#reading, -1);
    }
  }
}
