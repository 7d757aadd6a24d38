/**
 * Self-update offers: the agent version this relay ships (its bundle), offered in an `update`
 * frame to every agent whose hello said `autoUpdate`, right after welcome and again when the
 * client's policy changes. The policy is per client, kept in the Store: `auto` (the default:
 * offer whatever this relay ships), `off`, or `pin` to one version (offered only when this relay
 * ships exactly that version). The bundle itself is served by `GET /agent/bundle`. Only a signed
 * release (`AGENT_RELEASE_DIR`, agent-release.ts) is offered: the frame carries the operator's
 * signature, which the agent checks against its pinned key; an unsigned bundle is never offered.
 */
import { compareVersions, type UpdateFrame } from '@arena-relay/shared';
import type { Logger } from 'pino';
import { z } from 'zod';
import { PerClientSetting } from '../clients/per-client-setting.js';
import type { Store } from '../store/store.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import type { AgentSession } from '../tunnel/agent-session.js';
import type { AgentBundle } from './agent-bundle.js';

export const updatePolicy = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('auto') }),
  z.strictObject({ mode: z.literal('off') }),
  z.strictObject({ mode: z.literal('pin'), version: z.string().min(1).max(64) }),
]);
export type UpdatePolicy = z.infer<typeof updatePolicy>;

const DEFAULT_POLICY: UpdatePolicy = { mode: 'auto' };

/**
 * The version `policy` lets an agent at `current` move to, given what the relay ships; or none.
 * Only a higher version: the agent refuses anything else (no downgrade), so offering it is noise.
 */
export function offeredVersion(policy: UpdatePolicy, shipped: string, current: string): string | undefined {
  if (compareVersions(shipped, current) !== 1 || policy.mode === 'off') return undefined;
  if (policy.mode === 'pin' && policy.version !== shipped) return undefined;
  return shipped;
}

export type AgentUpdatesOptions = {
  store: Pick<Store, 'getSetting' | 'setSetting'>;
  hub: Pick<AgentHub, 'on' | 'sessions'>;
  /** The bundle this relay ships (built or read once). */
  bundle: () => Promise<AgentBundle>;
  logger: Logger;
};

export class AgentUpdates {
  #bundle: AgentBundle | undefined;
  readonly #options: AgentUpdatesOptions;
  readonly #policies: PerClientSetting<UpdatePolicy>;

  constructor(options: AgentUpdatesOptions) {
    this.#options = options;
    this.#policies = new PerClientSetting(options.store, 'agent_update', updatePolicy, DEFAULT_POLICY);
  }

  /** Prepares the bundle in the background and offers it to every agent that says hello. */
  start(): void {
    const { hub, bundle, logger } = this.#options;
    bundle().then(
      (ready) => {
        if (!ready.release) {
          logger.warn(
            'the agent bundle is not a signed release (AGENT_RELEASE_DIR): self-updates are not offered',
          );
          return;
        }
        this.#bundle = ready;
        // Agents that connected while it was being built.
        for (const session of hub.sessions.values()) void this.offer(session);
      },
      (error: Error) => logger.warn({ err: error.message }, 'no agent bundle: self-updates are not offered'),
    );
    hub.on('session', (session) => void this.offer(session));
  }

  policy(clientId: string): Promise<UpdatePolicy> {
    return this.#policies.get(clientId);
  }

  /** Stores the client's policy and offers again to its agents on this relay. */
  async setPolicy(clientId: string, policy: UpdatePolicy): Promise<void> {
    await this.#policies.set(clientId, policy);
    for (const session of this.#options.hub.sessions.values()) {
      if (session.client.id === clientId) void this.offer(session, policy);
    }
  }

  /** What this relay ships, once its bundle is ready. */
  get shipped(): Pick<AgentBundle, 'version' | 'sha256'> | undefined {
    return this.#bundle;
  }

  async offer(session: AgentSession, known?: UpdatePolicy): Promise<void> {
    const bundle = this.#bundle;
    const hello = session.hello;
    if (!bundle?.release || !hello?.autoUpdate) return;
    try {
      const policy = known ?? (await this.policy(session.client.id));
      const version = offeredVersion(policy, bundle.version, hello.agentVersion);
      // A failure is about one offer: withdrawn or replaced, it no longer stands.
      session.updateOffered = version;
      if (session.updateFailure?.version !== version) session.updateFailure = undefined;
      if (version === undefined) return;
      const frame: UpdateFrame = {
        type: 'update',
        version,
        sha256: bundle.sha256,
        bytes: bundle.code.byteLength,
        signature: bundle.release.signature,
        ...(bundle.release.keyChain ? { keyChain: bundle.release.keyChain } : {}),
      };
      session.send(frame);
    } catch (error) {
      this.#options.logger.warn({ err: (error as Error).message }, 'could not offer an agent update');
    }
  }
}
