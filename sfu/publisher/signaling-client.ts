/**
 * The publisher's signalling connection (sfu/protocol/messages.ts over a WebSocket, RFC 6455):
 * connect, `join` with a token, wait for `joined`. Server messages are parsed at the edge; an
 * invalid one is reported, not thrown. Also fetches a token from the server's `POST /api/token`.
 */
import { WebSocket } from "ws";
import {
  parseServerMessage,
  type ClientMessage,
  type JoinedMessage,
  type ParseError,
  type ServerMessage,
} from "../protocol/messages.ts";
import { PublisherError } from "./errors.ts";
import { TypedEvents } from "./events.ts";

export interface SignalingClientEvents {
  [name: string]: unknown;
  message: ServerMessage;
  invalid: ParseError;
  closed: { readonly code: number; readonly reason: string };
}

export class SignalingClient {
  readonly events = new TypedEvents<SignalingClientEvents>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const parsed = parseServerMessage(isBinary ? new Uint8Array(raw) : raw.toString("utf8"));
      if (parsed.ok) this.events.emit("message", parsed.msg);
      else this.events.emit("invalid", parsed.error);
    });
    ws.on("close", (code: number, reason: Buffer) => this.events.emit("closed", { code, reason: reason.toString() }));
    ws.on("error", () => {
      // "close" follows and reports the end.
    });
  }

  /** Opens the socket, joins with `token`, resolves with the server's `joined`. */
  static connect(url: string, token: string, timeoutMs = 10_000): Promise<{ client: SignalingClient; joined: JoinedMessage }> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url);
      } catch (err) {
        return reject(new PublisherError("INVALID_OPTION", `signalling URL ${JSON.stringify(url)} is not a ws:// or wss:// URL`, { cause: err }));
      }
      const client = new SignalingClient(ws);
      const fail = (err: PublisherError) => {
        cleanup();
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(() => fail(new PublisherError("SIGNALING_FAILED", `no "joined" from ${url} within ${timeoutMs} ms`, { retryable: true })), timeoutMs);
      timer.unref();
      const offMessage = client.events.on("message", (msg) => {
        if (msg.type === "joined") {
          cleanup();
          resolve({ client, joined: msg });
        } else if (msg.type === "error") {
          fail(new PublisherError("JOIN_REFUSED", `the server refused the join: ${msg.code}: ${msg.message}`));
        }
      });
      const offClosed = client.events.on("closed", ({ code, reason }) =>
        fail(new PublisherError("SIGNALING_FAILED", `the signalling socket closed before "joined" (code ${code}${reason ? `, ${reason}` : ""})`, { retryable: code !== 4001 })),
      );
      const onError = (err: Error) => fail(new PublisherError("SIGNALING_FAILED", `could not connect to ${url}: ${err.message}`, { cause: err, retryable: true }));
      ws.once("error", onError);
      ws.once("open", () => client.send({ type: "join", token }));
      function cleanup() {
        clearTimeout(timer);
        offMessage();
        offClosed();
        ws.off("error", onError);
      }
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a message; false when the socket is not open (the message is dropped). */
  send(msg: ClientMessage): boolean {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Drops the socket without `leave` or a closing handshake, as a crashed or unplugged client would. */
  terminate(): void {
    this.ws.terminate();
  }

  /** Sends `leave` and closes; resolves when the socket is closed (terminated after `timeoutMs`). */
  close(timeoutMs = 2000): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ws.terminate(), timeoutMs);
      timer.unref();
      this.ws.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      this.send({ type: "leave" });
      this.ws.close(1000, "leaving");
    });
  }
}

/** `POST /api/token` on the signalling server's host (ws -> http, wss -> https). */
export async function fetchToken(signalingUrl: string, room: string, identity: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  let url: URL;
  try {
    url = new URL(signalingUrl);
  } catch (err) {
    throw new PublisherError("INVALID_OPTION", `signalling URL ${JSON.stringify(signalingUrl)} is not a URL`, { cause: err });
  }
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = "/api/token";
  url.search = "";
  let res: Response;
  try {
    res = await fetchImpl(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ room, identity }) });
  } catch (err) {
    throw new PublisherError("TOKEN_FETCH_FAILED", `POST ${url.href} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, retryable: true });
  }
  const body = await res.text();
  let token: unknown;
  try {
    token = (JSON.parse(body) as { token?: unknown }).token;
  } catch {
    token = undefined;
  }
  if (!res.ok || typeof token !== "string") {
    throw new PublisherError("TOKEN_FETCH_FAILED", `POST ${url.href} answered ${res.status}: ${body.slice(0, 300)}`, { retryable: res.status >= 500 });
  }
  return token;
}
