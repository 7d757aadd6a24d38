/**
 * What is wrong right now, from one cluster-wide look: each rule turns the agents, clients and
 * Redis state into conditions (incidents.ts decides when they become messages). Rules:
 *
 *   bridge_not_serving   a client's connected agents are all not ready (reason code and its fix)
 *   client_offline       a client seen in the last day has no connection on any relay
 *   model_outage         a model some connected agent offers has no ready agent left
 *   model_capacity       a model's ready capacity (concurrent streams) is under ALERT_MODEL_CAPACITY_MIN
 *   key_budget           an API key has used 80 %, 95 %, 100 % of its tokens_per_day (one incident
 *                        each, all recovering when the day resets)
 *   relay_lost           a relay of the cluster stopped without saying goodbye (recovers once the
 *                        cluster has as many relays again)
 *   redis_unreachable    this relay cannot reach Redis (each relay says so for itself)
 *   agent_update_failed  a client's agent did not take the update this relay offered it (one incident
 *                        per client and version; recovers when no agent of the client is behind that
 *                        offer any more: it runs that version or newer, or the offer was withdrawn)
 */
import { BRIDGE_REASON_FIXES, type BridgeReasonCode } from '@arena-relay/shared';
import type { ClientRecord } from '../store/store.js';
import type { Condition } from './incidents.js';

export type AgentView = {
  id: string;
  relayId: string;
  clientId: string;
  models: readonly string[];
  maxConcurrency: number;
  ready: boolean;
  draining: boolean;
  readyCode?: string | undefined;
  /** The agent did not take the update offered to it, and why (agent-session.ts). */
  updateFailure?: { version: string; outcome: string; reason: string } | undefined;
};

export type World = {
  now: number;
  agents: readonly AgentView[];
  clients: readonly Pick<ClientRecord, 'id' | 'name' | 'status' | 'last_seen'>[];
  /** Models of incidents still open: a model whose agents all left stays watched until it recovers. */
  watchedModels: readonly string[];
  /**
   * Open `agent_update_failed` incidents as last seen: held while their client has no agent
   * connected (an agent gone is not an agent updated).
   */
  heldUpdateFailures?: readonly Condition[];
  /** Per model, the least ready capacity before `model_capacity` fires (0: off). */
  capacityMin: number;
  /** Keys with a `tokens_per_day` limit and what they used today. */
  keyBudgets: readonly { keyId: string; name: string; used: number; limit: number }[];
  /** Relays that stopped without a goodbye and have not been replaced yet. */
  lostRelays: readonly string[];
  /** Whether this relay reaches Redis (null: it runs without). */
  redisUp: boolean | null;
  relayId: string;
};

const DAY_MS = 86_400_000;

const fixOf = (code: string | undefined) =>
  (code && BRIDGE_REASON_FIXES[code as BridgeReasonCode]) ||
  "look at the bridge's window and its browser tab";

/** Conditions every relay may share (one relay evaluates them for the cluster). */
export function clusterConditions(world: World): Condition[] {
  const out: Condition[] = [];
  const byClient = new Map<string, AgentView[]>();
  for (const agent of world.agents) {
    const list = byClient.get(agent.clientId) ?? [];
    list.push(agent);
    byClient.set(agent.clientId, list);
  }
  for (const client of world.clients) {
    if (client.status === 'disabled') continue;
    const agents = (byClient.get(client.id) ?? []).filter((a) => !a.draining);
    const labels = { client: client.id, client_name: client.name };
    if (agents.length > 0 && !agents.some((a) => a.ready)) {
      const code = mostCommon(agents.map((a) => a.readyCode ?? 'bridge_error'));
      out.push({
        key: `bridge_not_serving:${client.id}`,
        rule: 'bridge_not_serving',
        severity: 'warning',
        title: `Bridge "${client.name}" is not serving (${code})`,
        text: `The bridge of client "${client.name}" (${client.id}) cannot serve requests: ${code}. Fix: ${fixOf(code)}.`,
        recoveredTitle: `Bridge "${client.name}" is serving again`,
        labels: { ...labels, reason: code },
        ownerClientId: client.id,
      });
    }
    const seen = client.last_seen ? Date.parse(client.last_seen) : Number.NaN;
    if ((byClient.get(client.id) ?? []).length === 0 && world.now - seen < DAY_MS) {
      out.push({
        key: `client_offline:${client.id}`,
        rule: 'client_offline',
        severity: 'warning',
        title: `Client "${client.name}" is offline`,
        text: `No agent of client "${client.name}" (${client.id}) is connected to any relay (last seen ${client.last_seen}). Is the agent running, and its machine on?`,
        recoveredTitle: `Client "${client.name}" is connected again`,
        labels,
        ownerClientId: client.id,
      });
    }
    if ((byClient.get(client.id) ?? []).length === 0)
      out.push(...(world.heldUpdateFailures ?? []).filter((c) => c.ownerClientId === client.id));
    else out.push(...updateFailures(client, agents));
  }

  const models = new Set<string>(world.watchedModels);
  for (const agent of world.agents) for (const model of agent.models) models.add(model);
  for (const model of [...models].sort()) {
    const ready = world.agents.filter((a) => a.ready && !a.draining && a.models.includes(model));
    const capacity = ready.reduce((sum, a) => sum + a.maxConcurrency, 0);
    if (ready.length === 0) {
      out.push({
        key: `model_outage:${model}`,
        rule: 'model_outage',
        severity: 'critical',
        title: `No bridge can serve ${model}`,
        text: `Every bridge that offers ${model} is down or not ready: requests for it fail with 503 until one is back.`,
        recoveredTitle: `${model} is served again`,
        labels: { model },
      });
    } else if (capacity < world.capacityMin) {
      out.push({
        key: `model_capacity:${model}`,
        rule: 'model_capacity',
        severity: 'warning',
        title: `${model} is low on capacity (${capacity} concurrent streams)`,
        text: `Ready bridges for ${model} can take ${capacity} concurrent streams, under the threshold of ${world.capacityMin}.`,
        recoveredTitle: `${model} has capacity again`,
        labels: { model },
      });
    }
  }
  for (const key of world.keyBudgets) {
    for (const pct of BUDGET_STEPS) {
      if (key.limit <= 0 || key.used * 100 < key.limit * pct) continue;
      out.push({
        key: `key_budget:${key.keyId}:${pct}`,
        rule: 'key_budget',
        severity: pct >= 100 ? 'critical' : 'warning',
        title: `Key "${key.name}" has used ${pct} % of its daily tokens`,
        text: `API key "${key.name}" (${key.keyId}) has used ${key.used} of its ${key.limit} tokens today (UTC)${pct >= 100 ? ': its requests are refused with 429 until 00:00 UTC' : ''}.`,
        recoveredTitle: `Key "${key.name}": daily tokens reset`,
        labels: { key: key.keyId, key_name: key.name, percent: String(pct) },
      });
    }
  }
  for (const relay of world.lostRelays) {
    out.push({
      key: `relay_lost:${relay}`,
      rule: 'relay_lost',
      severity: 'critical',
      title: `Relay ${relay} left the cluster without saying goodbye`,
      text: `Relay ${relay} stopped heartbeating without announcing a shutdown (a crash, a kill, a lost network): streams it carried were cut. Its agents redial the other relays.`,
      recoveredTitle: `The cluster is back to full strength after ${relay} was lost`,
      labels: { relay },
    });
  }
  return out;
}

const BUDGET_STEPS = [80, 95, 100] as const;

/** Conditions only this relay can see, evaluated by each relay for itself (Redis may be the thing that is down). */
export function localConditions(world: Pick<World, 'redisUp' | 'relayId'>): Condition[] {
  if (world.redisUp !== false) return [];
  return [
    {
      key: `redis_unreachable:${world.relayId}`,
      rule: 'redis_unreachable',
      severity: 'critical',
      title: `Relay ${world.relayId} cannot reach Redis`,
      text: 'Limits, usage, keys and cross-relay routing are degraded on this relay until Redis answers again.',
      recoveredTitle: `Relay ${world.relayId} reaches Redis again`,
      labels: { relay: world.relayId },
    },
  ];
}

/** What the owner can do about an update that did not take, by outcome. */
const UPDATE_FIXES: Record<string, string> = {
  refused:
    "the agent does not trust this relay's release (its release key, or an unsigned offer): install the agent again from a fresh package (Download package on the dashboard)",
  failed:
    'restart the agent; if it fails again, install the new version from a fresh package (Download package on the dashboard)',
};

/** One condition per version a client's connected agents did not take. */
function updateFailures(client: World['clients'][number], agents: readonly AgentView[]): Condition[] {
  const byVersion = new Map<string, NonNullable<AgentView['updateFailure']>>();
  for (const agent of agents) {
    const failure = agent.updateFailure;
    // Adverts of other relays are read unchecked: only strings, bounded.
    if (typeof failure?.version !== 'string' || typeof failure.reason !== 'string') continue;
    byVersion.set(failure.version.slice(0, 64), failure);
  }
  return [...byVersion].map(([version, { outcome, reason }]) => ({
    key: `agent_update_failed:${client.id}:${version}`,
    rule: 'agent_update_failed',
    severity: 'warning' as const,
    title: `The agent of "${client.name}" did not update to ${version}`,
    text: `An agent of client "${client.name}" (${client.id}) was offered version ${version} and ${outcome === 'refused' ? 'refused it' : 'could not switch to it'}: ${reason.slice(0, 512)}. It keeps serving on the version it runs. Fix: ${UPDATE_FIXES[outcome] ?? UPDATE_FIXES.failed}.`,
    recoveredTitle: `The agent of "${client.name}" is no longer behind the update to ${version}`,
    labels: { client: client.id, client_name: client.name, version, outcome: String(outcome) },
    ownerClientId: client.id,
  }));
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'bridge_error';
}
