/**
 * Test helper: a minimal relay. It checks the bearer token and subprotocol before the upgrade,
 * records every frame an agent sends (control frames parsed with the shared schemas, data frames
 * decoded per stream) and lets a test script the relay's side.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type AgentFrame,
  decodeDataFrame,
  type HelloFrame,
  parseAgentFrame,
  type RelayFrame,
  SUBPROTOCOL,
  type WelcomeFrame,
} from '@arena-relay/shared';
import { type WebSocket, WebSocketServer } from 'ws';
import { waitFor } from './wait.js';

export type FakeRelayOptions = {
  /** Token the relay accepts (default "good-token"). */
  token?: string;
  /** Answer every upgrade with this HTTP status instead (e.g. 401). */
  refuseWith?: number;
  /** Fields of the welcome sent in answer to hello; `false` sends none. */
  welcome?: Partial<Omit<WelcomeFrame, 'type'>> | false;
};

/** One agent socket as the fake relay sees it. */
export class RelayConnection {
  readonly frames: AgentFrame[] = [];
  readonly data = new Map<number, Buffer[]>();
  /** Protocol problems in what the agent sent (should stay empty). */
  readonly violations: string[] = [];
  hello: HelloFrame | undefined;
  closed: { code: number; reason: string } | undefined;
  pongs = 0;

  constructor(
    readonly ws: WebSocket,
    readonly authorization: string | undefined,
    readonly welcomeFields: Partial<Omit<WelcomeFrame, 'type'>> | false,
  ) {
    ws.on('message', (raw, isBinary) => this.#onMessage(raw as Buffer, isBinary));
    ws.on('pong', () => this.pongs++);
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  send(frame: RelayFrame): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends `open` for a chat completion. */
  open(stream: number, body: unknown, path = '/v1/chat/completions'): void {
    this.send({
      type: 'open',
      stream,
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body,
    });
  }

  /** Every payload byte received on `stream`, in order. */
  bytes(stream: number): Buffer {
    return Buffer.concat(this.data.get(stream) ?? []);
  }

  /** Control frames about `stream`. */
  framesOf(stream: number): AgentFrame[] {
    return this.frames.filter((frame) => 'stream' in frame && frame.stream === stream);
  }

  /** Waits for a control frame matching `match`. */
  waitFrame<T extends AgentFrame['type']>(
    type: T,
    match: (frame: Extract<AgentFrame, { type: T }>) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<Extract<AgentFrame, { type: T }>> {
    return waitFor(
      () =>
        this.frames.find(
          (frame): frame is Extract<AgentFrame, { type: T }> => frame.type === type && match(frame as never),
        ),
      `a ${type} frame`,
      timeoutMs,
    );
  }

  /** Sends a health request and waits for its answer: a round trip through the agent and its bridge. */
  async health(id: string): Promise<Extract<AgentFrame, { type: 'health' }>> {
    this.send({ type: 'health', id });
    return this.waitFrame('health', (frame) => frame.id === id);
  }

  #onMessage(raw: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const frame = decodeDataFrame(raw);
      if (!frame) return void this.violations.push('malformed data frame');
      const head = this.framesOf(frame.stream).some((f) => f.type === 'head');
      if (!head) this.violations.push(`data before head on stream ${frame.stream}`);
      const list = this.data.get(frame.stream) ?? [];
      list.push(Buffer.from(frame.payload));
      this.data.set(frame.stream, list);
      return;
    }
    const parsed = parseAgentFrame(raw.toString('utf8'));
    if (!parsed.ok) return void this.violations.push(parsed.reason);
    this.frames.push(parsed.frame);
    if (parsed.frame.type === 'hello') {
      this.hello = parsed.frame;
      if (this.welcomeFields !== false) {
        this.send({
          type: 'welcome',
          sessionId: `sess-${Math.random().toString(36).slice(2, 10)}`,
          heartbeatMs: 60_000,
          streamWindow: 256 * 1024,
          maxFrameBytes: 1024 * 1024 + 16,
          ...this.welcomeFields,
        });
      }
    }
  }
}

export class FakeRelay {
  readonly connections: RelayConnection[] = [];
  /** Upgrade requests seen, refused ones included. */
  upgrades = 0;
  #server: Server;
  #wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  #url = '';

  private constructor(readonly options: FakeRelayOptions) {
    this.#server = createServer((_req, res) => res.writeHead(404).end());
    this.#server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket as Socket, head));
  }

  static async start(options: FakeRelayOptions = {}): Promise<FakeRelay> {
    const relay = new FakeRelay(options);
    await new Promise<void>((resolve) => relay.#server.listen(0, '127.0.0.1', resolve));
    relay.#url = `http://127.0.0.1:${(relay.#server.address() as AddressInfo).port}`;
    return relay;
  }

  /** `http://127.0.0.1:<port>`, as an owner would write platform_url. */
  get url(): string {
    return this.#url;
  }

  /** Waits for the `n`-th (1-based) agent connection to have said hello. */
  connection(n = 1): Promise<RelayConnection> {
    return waitFor(() => {
      const conn = this.connections[n - 1];
      return conn?.hello ? conn : undefined;
    }, `agent connection #${n}`);
  }

  async close(): Promise<void> {
    for (const conn of this.connections) conn.ws.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.upgrades++;
    // As the real relay does (agent-hub.ts): an agent that drops a refused upgrade resets the
    // socket while the answer is written; unhandled, that ECONNRESET failed a CI run.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string) => {
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{}`,
      );
    };
    if (this.options.refuseWith) return refuse(this.options.refuseWith, 'Refused');
    const token = this.options.token ?? 'good-token';
    if (req.url !== '/agent/connect') return refuse(404, 'Not Found');
    if (req.headers.authorization !== `Bearer ${token}`) return refuse(401, 'Unauthorized');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(SUBPROTOCOL)) return refuse(426, 'Upgrade Required');
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.connections.push(new RelayConnection(ws, req.headers.authorization, this.options.welcome ?? {}));
    });
  }
}
