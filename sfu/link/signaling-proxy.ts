/**
 * A WebSocket man in the middle for the call server's signalling (sfu/protocol/messages.ts): each
 * client connection gets its own upstream connection to the server, and every JSON message passes
 * through a transform in its direction, in order (a transform may be async; later messages wait
 * for it). A transform returns the message to forward (changed or not), or null to drop it.
 *
 * Tests and benchmarks use it to steer a real client's ICE through the UDP relay without touching
 * the client (relay-path.ts): the server's answer and trickled candidates are rewritten to the
 * relay's address, and the client's candidates are stripped from its offer, as a middlebox on the
 * signalling path would do. With `httpUpstream` it also forwards plain HTTP (the page, its
 * scripts, /api/token) to the server, so a browser that loads the page from the proxy's origin
 * signals through it.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer, type RawData } from "ws";

export type JsonMessage = { readonly type?: unknown; readonly [key: string]: unknown };
export type MessageTransform = (msg: JsonMessage) => JsonMessage | null | Promise<JsonMessage | null>;

export interface SignalingProxyOptions {
  /** The server's signalling URL, e.g. ws://127.0.0.1:8080/ws. */
  readonly upstream: string;
  /** Client -> server. Default: forward as is. */
  readonly toServer?: MessageTransform;
  /** Server -> client. Default: forward as is. */
  readonly toClient?: MessageTransform;
  /** A transform threw: the message is dropped and the error reported here. */
  readonly onError?: (err: unknown) => void;
  /** The server's HTTP origin (http://127.0.0.1:PORT): other requests are forwarded there. Absent: WebSocket only. */
  readonly httpUpstream?: string;
}

export class SignalingProxy {
  /** ws:// URL for the client. */
  readonly url: string;
  /** http:// origin for the client (the page is served there with `httpUpstream`). */
  readonly origin: string;
  private readonly sockets = new Set<WebSocket>();

  private constructor(private readonly http: Server, private readonly wss: WebSocketServer, private readonly o: SignalingProxyOptions) {
    const { port } = http.address() as AddressInfo;
    this.url = `ws://127.0.0.1:${port}/ws`;
    this.origin = `http://127.0.0.1:${port}`;
    wss.on("connection", (client) => this.pair(client));
  }

  static async start(o: SignalingProxyOptions): Promise<SignalingProxy> {
    const http = createServer((req, res) => {
      if (!o.httpUpstream) {
        res.writeHead(404).end();
        return;
      }
      const up = new URL(o.httpUpstream);
      const fwd = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      fwd.on("error", (err) => {
        o.onError?.(err);
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`signalling proxy: upstream ${o.httpUpstream} failed: ${err.message}`);
      });
      req.pipe(fwd);
    });
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(0, "127.0.0.1", () => resolve());
    });
    return new SignalingProxy(http, wss, o);
  }

  private pair(client: WebSocket): void {
    const upstream = new WebSocket(this.o.upstream);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const report = (err: unknown) => this.o.onError?.(err);
    const relay = (from: WebSocket, to: WebSocket, transform: MessageTransform | undefined) => {
      // One chain per direction keeps messages in order while async transforms run.
      let chain: Promise<void> = Promise.resolve();
      // The upstream socket may still be connecting when the client's join arrives.
      const opened = to.readyState === WebSocket.OPEN ? Promise.resolve() : new Promise<void>((r) => to.once("open", () => r()));
      from.on("message", (data: RawData, isBinary: boolean) => {
        chain = chain.then(async () => {
          const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
          let out: string | Buffer = isBinary ? raw : raw.toString("utf8");
          if (!isBinary && transform) {
            const next = await transform(JSON.parse(raw.toString("utf8")) as JsonMessage);
            if (next === null) return;
            out = JSON.stringify(next);
          }
          await opened;
          if (to.readyState === WebSocket.OPEN) to.send(out, { binary: isBinary });
        }).catch(report);
      });
      from.on("close", (code: number, reason: Buffer) => {
        void chain.finally(() => {
          if (to.readyState === WebSocket.OPEN || to.readyState === WebSocket.CONNECTING) {
            // 1005/1006 (no status, abnormal) cannot be sent in a close frame.
            if (code === 1005 || code === 1006) to.terminate();
            else to.close(code, reason);
          }
        });
      });
      from.on("error", report);
    };
    relay(client, upstream, this.o.toServer);
    relay(upstream, client, this.o.toClient);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }
}
