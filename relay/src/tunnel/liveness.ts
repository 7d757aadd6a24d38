/**
 * Heartbeat of one agent socket. The hub ticks every session once per interval (one timer for
 * all); each tick pings, and an agent that answered neither of the last two pings (no pong, no
 * message either) is dead: its socket is closed and terminated.
 */

/** The part of a WebSocket the heartbeat drives. */
export type Pingable = { ping(): void; terminate(): void };

export class Liveness {
  /** When the agent last answered a ping. */
  lastHeartbeatAt: Date | undefined;
  /** Round trip of the last answered ping, in ms. */
  rttMs: number | undefined;
  private pongSeen = true;
  private missed = 0;
  private pingSentAt = 0;

  constructor(
    private readonly ws: Pingable,
    /** Called once the agent missed two pings, before its socket is terminated. */
    private readonly onDead: () => void,
  ) {}

  /** Any message from the agent shows it alive, as a pong does. */
  traffic(): void {
    this.pongSeen = true;
  }

  pong(now = Date.now()): void {
    this.pongSeen = true;
    this.lastHeartbeatAt = new Date(now);
    if (this.pingSentAt) this.rttMs = now - this.pingSentAt;
  }

  /** One heartbeat interval passed. */
  tick(now: number): void {
    if (this.pongSeen) {
      this.missed = 0;
    } else if (++this.missed >= 2) {
      this.onDead();
      this.ws.terminate();
      return;
    }
    this.pongSeen = false;
    this.pingSentAt = now;
    this.ws.ping();
  }
}
