/**
 * Which handler takes each relay frame kind: the table the frame dispatcher routes by, one entry
 * per kind. Stream frames go to the stream hub; `goaway` is handled here once (the socket's
 * streams run on but it takes no new one, its slots go to the other sockets, another relay is
 * dialled); `capacity` and `settings` adjust the shares and what is announced; `update` goes to
 * whoever takes offers.
 */
import type { SettingsFrame, UpdateFrame, UpdateResultFrame } from '@arena-relay/shared';
import type { Logger } from 'pino';
import type { AgentSettings } from '../config/pushed-settings.js';
import type { Announcer } from './announcer.js';
import type { FrameRoutes } from './frame-dispatcher.js';
import type { LinkPool } from './link-pool.js';
import type { SlotShares } from './slot-shares.js';
import type { StreamHub } from './stream-hub.js';

export type RouteParts = {
  hub: StreamHub;
  shares: SlotShares;
  /** The links (read when a frame comes: the pool is built after the routes it dispatches to). */
  pool: () => LinkPool;
  announcer: Announcer;
  settings: AgentSettings;
  /** The agent's root logger: pushed settings may change its level. */
  logger: Logger;
  /**
   * A relay offered another agent version; `connectUrl` is the address of the link it came on, and
   * `report` tells that relay the offer was not taken.
   */
  update(offer: UpdateFrame, connectUrl: string, report: (result: UpdateResultFrame) => void): void;
};

export function frameRoutes(parts: RouteParts): FrameRoutes {
  const { hub, shares, announcer } = parts;
  return {
    open: (link, frame) => hub.open(link, frame),
    cancel: (link, frame) => hub.cancel(link, frame.stream),
    credit: (link, frame) => hub.credit(link, frame.stream, frame.bytes),
    body: (link, stream, payload) => hub.body(link, stream, payload),
    drain: (link, frame) => hub.drain(link, frame.reason),
    health: (link, frame) => hub.health(link, frame.id),
    goaway: (link, frame) => {
      hub.goAway(link);
      shares.retire(link);
      parts.pool().goAway(link, frame.graceMs);
      announcer.rebalance();
    },
    capacity: (link, frame) => {
      shares.acked(link, frame.seq);
      announcer.rebalance();
    },
    settings: (_link, frame) => applySettings(parts, frame),
    update: (link, frame) => {
      const url = parts
        .pool()
        .status()
        .find((l) => l.link === link)?.relay_url;
      if (url) parts.update(frame, url, (result) => announcer.updateResult(link, result));
    },
  };
}

/** Settings a relay pushed, where the owner set none: applied at once. */
function applySettings(parts: RouteParts, frame: SettingsFrame): void {
  const { settings, logger, announcer, shares } = parts;
  const change = settings.apply(frame);
  if (change.logLevel !== undefined) logger.level = change.logLevel;
  if (change.models) announcer.models();
  if (change.maxConcurrency !== undefined) {
    shares.setTotal(change.maxConcurrency);
    announcer.rebalance();
  }
  if (Object.keys(change).length > 0) logger.info({ ...change }, 'relay settings applied');
}
