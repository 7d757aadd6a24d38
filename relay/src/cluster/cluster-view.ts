/**
 * One rule for the cluster-wide admin views: a question has a local answer (this relay's own
 * view); with a cluster, the same function answers the other relays' questions, and a view asks
 * every live member at once, within the cluster query bound. Members that do not answer in time
 * (or have no listener) are listed under `unreachable`, never waited for. Without Redis the
 * view is this relay's alone, in the same shape.
 */
import type { z } from 'zod';
import type { AppDeps } from '../http/context.js';
import type { PeerFailure } from './peer-query.js';

export type MemberAnswer<T> = { relay: string; value: T };
export type Unreachable = { relay: string; error: PeerFailure; message: string };

export type ClusterAnswers<T> = {
  /** This relay's answer first, then each member that answered. */
  answers: MemberAnswer<T>[];
  unreachable: Unreachable[];
};

export type ClusterQuery<A, T> = {
  (args: A, options?: { timeoutMs?: number }): Promise<ClusterAnswers<T>>;
  /** This relay's answer alone. */
  local(args: A): T | Promise<T>;
};

/**
 * Registers `local` as this relay's answer to `kind` (arguments from other relays are checked
 * with `schema`) and returns the function that asks the whole cluster.
 */
export function clusterQuery<A, T>(
  deps: Pick<AppDeps, 'cluster' | 'relayId'>,
  kind: string,
  schema: z.ZodType<A>,
  local: (args: A) => T | Promise<T>,
): ClusterQuery<A, T> {
  const { cluster, relayId } = deps;
  cluster?.peers.serve(kind, (raw) => local(schema.parse(raw)));
  const ask = async (args: A, options: { timeoutMs?: number } = {}): Promise<ClusterAnswers<T>> => {
    const members = cluster?.membership.relays() ?? [];
    const [own, remote] = await Promise.all([
      local(args),
      cluster ? cluster.peers.ask<T>(members, kind, args, options.timeoutMs) : Promise.resolve([]),
    ]);
    const answers: MemberAnswer<T>[] = [{ relay: relayId, value: own }];
    const unreachable: Unreachable[] = [];
    for (const answer of remote) {
      if (answer.ok) answers.push({ relay: answer.relay, value: answer.value });
      else unreachable.push({ relay: answer.relay, error: answer.error, message: answer.message });
    }
    return { answers, unreachable };
  };
  return Object.assign(ask, { local });
}
