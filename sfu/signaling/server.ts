/**
 * The call server's signalling endpoint: WebSocket on `/ws` (RFC 6455, via `ws` in noServer mode so
 * the HTTP routes share the port), `POST /api/token` and `GET /healthz` (see `http.ts`). The thin
 * shell around `SignalingSession` (the per-connection state machine) and `RoomRegistry`: it owns
 * the sockets, the heartbeat timer and the clock.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { handleHttp, sendError, type HttpRoutesDeps } from "./http.ts";
import { resolveOptions, type ResolvedOptions, type SignalingServerOptions } from "./options.ts";
import { RoomRegistry } from "./rooms.ts";
import { SignalingSession } from "./session.ts";
import { createToken, verifyToken } from "./tokens.ts";

export type { SignalingServerOptions } from "./options.ts";

/** RFC 6455 §7.4.1: 1001 "going away", sent to every client when the server shuts down. */
const CLOSE_GOING_AWAY = 1001;

interface Connection {
  readonly ws: WebSocket;
  readonly session: SignalingSession;
  /** Cleared at each heartbeat tick, set by the client's Pong (RFC 6455 §5.5.3). */
  alive: boolean;
  timedOut: boolean;
}

export class SignalingServer {
  readonly http: Server;
  readonly rooms: RoomRegistry;
  private readonly opts: ResolvedOptions;
  private readonly ownsServer: boolean;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly httpDeps: HttpRoutesDeps;
  private closing: Promise<void> | undefined;

  constructor(options: SignalingServerOptions) {
    this.opts = resolveOptions(options);
    this.ownsServer = options.server === undefined;
    this.http = options.server ?? createServer();
    this.rooms = new RoomRegistry({
      maxParticipantsPerRoom: this.opts.maxParticipantsPerRoom,
      reservedIdentities: [this.opts.aiIdentity],
    });
    // maxPayload is the hard cap: a larger frame makes `ws` fail the connection with 1009 (RFC 6455
    // §7.4.1). Frames between maxMessageBytes and maxPayload get a TOO_LARGE reply and live on.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.opts.maxFrameBytes });
    const { secret, now, tokenTtlSec } = this.opts;
    this.httpDeps = {
      health: () => ({ rooms: this.rooms.roomCount, peers: this.rooms.participantCount }),
      maxBodyBytes: this.opts.maxHttpBodyBytes,
      logger: this.opts.logger,
      ...(this.opts.issueTokens ? { issueToken: (r: { room: string; identity: string }) => createToken(secret, { ...r, ttlSec: tokenTtlSec }, now()) } : {}),
    };
    this.http.on("request", this.onRequest);
    this.http.on("upgrade", this.onUpgrade);
    this.heartbeat = setInterval(() => this.tick(), this.opts.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  /** Listens on `host:port` (port 0 picks a free one); resolves with the bound address. */
  listen(port = 0, host = "127.0.0.1"): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => {
        this.http.off("error", reject);
        resolve(this.http.address() as AddressInfo);
      });
    });
  }

  /** Open WebSocket connections (joined or not). */
  get connectionCount(): number {
    return this.wss.clients.size;
  }

  /**
   * Ends every connection (leave reason "server-shutdown", close code 1001), waits for the handlers'
   * `onLeave` calls, and closes the HTTP server if this class created it. A passed-in server is left
   * listening, with this class's listeners removed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    const conns = [...this.connections];
    for (const c of conns) {
      c.session.end("server-shutdown");
      c.ws.close(CLOSE_GOING_AWAY, "server shutting down");
    }
    await Promise.all(conns.map((c) => closed(c.ws, this.opts.closeTimeoutMs)));
    await Promise.all(conns.map((c) => c.session.idle()));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.off("upgrade", this.onUpgrade);
    this.http.off("request", this.onRequest);
    if (this.ownsServer && this.http.listening) {
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
    }
    this.opts.logger.info("signaling.closed", { connections: conns.length });
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (handleHttp(this.httpDeps, req, res)) return;
    // A passed-in server has other routes; answer 404 only for a server this class owns.
    if (this.ownsServer) sendError(res, 404, "NOT_FOUND", `no route ${req.method ?? ""} ${req.url ?? ""}`);
  };

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== this.opts.path) {
      if (this.ownsServer) rejectUpgrade(socket, 404, "Not Found");
      return;
    }
    if (this.closing !== undefined) return rejectUpgrade(socket, 503, "Service Unavailable");
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  };

  private accept(ws: WebSocket, req: IncomingMessage): void {
    // An upgrade that began before close() finishes after it: nothing may outlive close().
    if (this.closing !== undefined) return ws.terminate();
    const { logger } = this.opts;
    const session = new SignalingSession({
      transport: {
        get open() {
          return ws.readyState === WebSocket.OPEN;
        },
        send: (text) => ws.send(text),
        close: (code, reason) => ws.close(code, reason),
      },
      registry: this.rooms,
      verifyToken: (token) => verifyToken(this.opts.secret, token, this.opts.now()),
      handlers: this.opts.handlers,
      logger,
      newId: this.opts.newId,
      aiIdentity: this.opts.aiIdentity,
      iceServers: this.opts.iceServers,
      maxMessageBytes: this.opts.maxMessageBytes,
    });
    const conn: Connection = { ws, session, alive: true, timedOut: false };
    this.connections.add(conn);
    logger.info("signaling.connected", { peerId: session.peerId, remote: req.socket.remoteAddress });
    ws.on("pong", () => {
      conn.alive = true;
    });
    ws.on("message", (data: RawData) => session.receive(toBytes(data)));
    ws.on("error", (err) => logger.warn("signaling.socket_error", { peerId: session.peerId, error: err.message }));
    ws.on("close", (code: number) => {
      this.connections.delete(conn);
      session.end(conn.timedOut ? "heartbeat-timeout" : "disconnected");
      logger.info("signaling.disconnected", { peerId: session.peerId, code, timedOut: conn.timedOut });
    });
  }

  /** RFC 6455 §5.5.2: ping every interval; a socket that did not pong since the last tick is dropped. */
  private tick(): void {
    for (const c of this.connections) {
      if (!c.alive) {
        c.timedOut = true;
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** Resolves when `ws` has closed; terminates it if the closing handshake takes longer than `timeoutMs`. */
function closed(ws: WebSocket, timeoutMs: number): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), timeoutMs);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
