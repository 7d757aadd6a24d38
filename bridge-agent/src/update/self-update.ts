/**
 * Self-update, the way cloudflared does it: the new process starts before the old one leaves.
 * An `update` offer is taken only when it names a higher version than this one and its signature
 * verifies with the trusted release key (release-trust.ts): the relay serves releases, it cannot
 * make one. Then the agent downloads the relay's bundle (its client token as Bearer), keeps it
 * only with the signed size and SHA-256, writes it beside itself (temp file, fsync, rename),
 * starts it and waits up to 30 s for it to say it is connected. Then the new file takes the
 * running one's name (what a service starts next time), and the old process drains its streams and
 * exits. A bundle that fails its check, or a process that does not connect in time, is discarded:
 * the old version keeps serving and that offer is not tried again by this process. An offer
 * refused or failed is reported to the relay that made it (`update_result`, for its alerts), and
 * again each time that relay offers it again. Every update event is logged at `warn` (a pushed log
 * level cannot hide warnings: pushed-settings.ts).
 */
import { createHash } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  AGENT_BUNDLE_PATH,
  AGENT_CONNECT_PATH,
  compareVersions,
  truncateChars,
  type UpdateFrame,
  type UpdateResultFrame,
} from '@arena-relay/shared';
import { Agent as HttpAgent, request } from 'undici';
import type { ChosenProxy } from '../config/proxy-url.js';
import type { Logger } from '../logging.js';
import { proxyDispatcher } from '../tunnel/relay-proxy.js';
import { verifyRelease } from './release-signature.js';
import type { ReleaseTrust } from './release-trust.js';

/** The message a handed-over process sends its parent once a relay welcomed it. */
export const HANDOVER_READY = 'arena-agent-ready';
/** Set in the environment of a process started by a self-update. */
export const HANDOVER_ENV = 'ARENA_AGENT_HANDOVER';

/** What the updater needs of the new process: a message channel, its end, and a way to stop it. */
export interface NextProcess {
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'exit', listener: (code: number | null) => void): this;
  kill(): void;
  /** Lets the new process live on alone once it took over. */
  release(): void;
}

export type SelfUpdateOptions = {
  /** The running bundle's path: where the new version goes once it has taken over. */
  entry: string;
  currentVersion: string;
  /** The release key this agent trusts (pinned by its package, moved on by signed rotations). */
  trust: ReleaseTrust;
  token: string;
  /** Trusted CAs for a wss:// relay (as the relay link uses). */
  ca?: string[] | undefined;
  /** The proxy to reach a relay's download address through, as the relay link dials it. */
  proxyFor?: (url: string) => ChosenProxy | undefined;
  logger: Logger;
  /** Starts `file` as the next agent process. */
  start(file: string): NextProcess;
  /** The old process's exit: drain the streams, then leave. */
  handOver(): void;
  /** How long the new process may take to connect, in ms (default 30 000). */
  readyTimeoutMs?: number;
};

/** Failed offers remembered (a relay sending ever new ones cannot grow memory). */
const FAILED_KEPT = 64;

export type UpdateOutcome = 'ignored' | 'refused' | 'failed' | 'handed-over';

/** Tells the offering relay an offer was not taken. */
export type UpdateReport = (result: UpdateResultFrame) => void;

/** `ws(s)://host/prefix/agent/connect` → `http(s)://host/prefix/agent/bundle`. */
export function bundleUrl(connectUrl: string): string {
  const url = new URL(connectUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  const prefix = url.pathname.endsWith(AGENT_CONNECT_PATH)
    ? url.pathname.slice(0, -AGENT_CONNECT_PATH.length)
    : url.pathname.replace(/\/$/, '');
  url.pathname = `${prefix}${AGENT_BUNDLE_PATH}`;
  url.search = '';
  return url.toString();
}

export class SelfUpdate {
  readonly #options: SelfUpdateOptions;
  /**
   * Offers that failed here, per relay and per signed content (not per version: a hostile relay's
   * forged offer of a version must not block the genuine one from another relay). Not tried again
   * by this process; the oldest are forgotten past FAILED_KEPT.
   */
  readonly #failed = new Map<string, UpdateResultFrame>();
  #busy = false;

  constructor(options: SelfUpdateOptions) {
    this.#options = options;
  }

  /**
   * Acts on one offer made by the relay at `connectUrl`; `report` tells that relay when it is not
   * taken (an offer that failed before is reported again, not tried again). Never rejects.
   */
  async offer(
    frame: UpdateFrame,
    connectUrl: string,
    report: UpdateReport = () => {},
  ): Promise<UpdateOutcome> {
    const { logger, currentVersion } = this.#options;
    const id = [connectUrl, frame.version, frame.sha256, frame.bytes, frame.signature ?? ''].join(' ');
    const known = this.#failed.get(id);
    if (known) report(known);
    if (this.#busy || frame.version === currentVersion || known) return 'ignored';
    const done = (outcome: 'refused' | 'failed', reason: string) => {
      const result: UpdateResultFrame = {
        type: 'update_result',
        version: frame.version,
        outcome,
        reason: truncateChars(reason, 512),
      };
      this.#failed.set(id, result);
      if (this.#failed.size > FAILED_KEPT) this.#failed.delete(this.#failed.keys().next().value!);
      report(result);
      return outcome;
    };
    const log = logger.child({ from: currentVersion, to: frame.version });
    const problem = this.#refusal(frame);
    if (problem) {
      log.warn({ problem }, 'agent update refused; this version keeps serving');
      return done('refused', problem);
    }
    this.#busy = true;
    let file: string | undefined;
    try {
      await this.#options.trust.adopt(frame.keyChain ?? [], log);
      log.warn('agent update offered, signed by the release key: downloading');
      const code = await this.#download(bundleUrl(connectUrl), frame.bytes);
      const mismatch = checkBundle(code, frame);
      if (mismatch) {
        log.warn({ problem: mismatch }, 'agent update refused; this version keeps serving');
        return done('refused', `the downloaded bundle is not the one offered (${mismatch})`);
      }
      file = await this.#write(code, frame.version);
      const next = await this.#startNext(file, log);
      if (next !== undefined) {
        await unlink(file).catch(() => undefined);
        return done('failed', next);
      }
      await rename(file, this.#options.entry);
      log.warn('agent update handed over: the new version serves, this one drains and exits');
      this.#options.handOver();
      return 'handed-over';
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'agent update failed; this version keeps serving');
      if (file) await unlink(file).catch(() => undefined);
      return done('failed', (error as Error).message);
    } finally {
      this.#busy = false;
    }
  }

  /** Why `frame` may not even be downloaded (checked before anything is fetched or written). */
  #refusal(frame: UpdateFrame): string | undefined {
    const order = compareVersions(frame.version, this.#options.currentVersion);
    if (order === undefined) return 'unusable version name (MAJOR.MINOR.PATCH expected)';
    if (order <= 0) return 'not newer than the running version: no downgrade, no replay';
    const key = this.#options.trust.keyFor(frame.keyChain);
    if (key === undefined) return 'no release key is pinned (release_key in config.jsonc)';
    if (!frame.signature) return 'the offer is not signed';
    if (!verifyRelease(key, frame, frame.signature))
      return 'the signature does not verify with the release key';
    return undefined;
  }

  /** The body, refused as soon as it grows past `bytes`. */
  async #download(url: string, bytes: number): Promise<Buffer> {
    const { ca } = this.#options;
    const proxy = this.#options.proxyFor?.(url);
    const dispatcher = proxy ? proxyDispatcher(proxy, ca) : new HttpAgent(ca ? { connect: { ca } } : {});
    try {
      const res = await request(url, {
        dispatcher,
        headers: { authorization: `Bearer ${this.#options.token}` },
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`the relay answered ${res.statusCode} for ${AGENT_BUNDLE_PATH}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).byteLength;
        if (size > bytes) {
          res.body.destroy();
          throw new Error(`the bundle is larger than the ${bytes} bytes offered`);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks, size);
    } finally {
      await dispatcher.close();
    }
  }

  /** Writes the bundle beside the running one: temp file, fsync, rename (never a half file). */
  async #write(code: Buffer, version: string): Promise<string> {
    const dir = dirname(this.#options.entry);
    const file = join(dir, `${basename(this.#options.entry, '.mjs')}-${version}.mjs`);
    const temp = `${file}.download`;
    const handle = await open(temp, 'w', 0o755);
    try {
      await handle.writeFile(code);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    return file;
  }

  /**
   * Undefined once the new process says a relay welcomed it; otherwise (it is stopped) why not,
   * in words.
   */
  #startNext(file: string, log: Logger): Promise<string | undefined> {
    const next = this.#options.start(file);
    const waitMs = this.#options.readyTimeoutMs ?? 30_000;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (problem: string | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(problem);
      };
      const timer = setTimeout(() => {
        log.warn('the new agent version did not connect within 30 s; keeping this one');
        next.kill();
        settle(`the new version did not connect to a relay within ${Math.round(waitMs / 1000)} s`);
      }, waitMs);
      next.on('message', (message) => {
        if (settled || (message as { type?: unknown } | null)?.type !== HANDOVER_READY) return;
        next.release();
        settle(undefined);
      });
      next.on('exit', (code) => {
        if (settled) return;
        log.warn({ code }, 'the new agent version exited before connecting; keeping this one');
        settle(`the new version exited (code ${code}) before connecting to a relay`);
      });
    });
  }
}

/** Why `code` is not the offered bundle, or undefined when it is. */
export function checkBundle(code: Buffer, offer: Pick<UpdateFrame, 'bytes' | 'sha256'>): string | undefined {
  if (code.byteLength !== offer.bytes) return `size ${code.byteLength}, offered ${offer.bytes}`;
  const sha256 = createHash('sha256').update(code).digest('hex');
  if (sha256 !== offer.sha256) return `SHA-256 ${sha256}, offered ${offer.sha256}`;
  return undefined;
}
