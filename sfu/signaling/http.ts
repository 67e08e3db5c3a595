/**
 * The signalling server's two HTTP routes:
 *
 * - `POST /api/token` with JSON `{room, identity}` -> `{token}`. DEV CONVENIENCE: the server signs a
 *   token for anyone who asks, so any caller can join any room under any free identity. A
 *   deployment with real users turns it off (`issueTokens: false`) and has its own backend call
 *   `createToken` after authenticating the user.
 * - `GET /healthz` -> `{ok: true, rooms, peers}`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { parseJson } from "../protocol/parse.ts";
import { identifierSchema } from "../protocol/messages.ts";
import type { Logger } from "./types.ts";

export const tokenRequestSchema = z.object({ room: identifierSchema, identity: identifierSchema });
export type TokenHttpRequest = z.infer<typeof tokenRequestSchema>;

export interface HttpRoutesDeps {
  /** Signs a token; absent when the token route is off. */
  readonly issueToken?: (req: TokenHttpRequest) => string;
  readonly health: () => { rooms: number; peers: number };
  readonly maxBodyBytes: number;
  readonly logger: Logger;
}

/** Answers the routes above; returns false (and writes nothing) for any other path. */
export function handleHttp(deps: HttpRoutesDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path === "/healthz") {
    if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(res, "GET, HEAD"), true;
    sendJson(res, 200, { ok: true, ...deps.health() });
    return true;
  }
  if (path === "/api/token" && deps.issueToken !== undefined) {
    if (req.method !== "POST") return methodNotAllowed(res, "POST"), true;
    void tokenRoute(deps, deps.issueToken, req, res);
    return true;
  }
  return false;
}

async function tokenRoute(
  deps: HttpRoutesDeps,
  issueToken: (req: TokenHttpRequest) => string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) {
    req.resume();
    return sendError(res, 415, "UNSUPPORTED_MEDIA_TYPE", `send the body as application/json, got ${JSON.stringify(type)}`);
  }
  const body = await readBody(req, deps.maxBodyBytes);
  if (body === "too-large") {
    return sendError(res, 413, "TOO_LARGE", `body is larger than ${deps.maxBodyBytes} bytes`, true);
  }
  if (body === "aborted") return;
  const parsed = parseJson(tokenRequestSchema, body, deps.maxBodyBytes);
  if (!parsed.ok) return sendError(res, 400, parsed.error.code, parsed.error.message, false, parsed.error.field);
  const token = issueToken(parsed.msg);
  deps.logger.info("signaling.token_issued", { room: parsed.msg.room, identity: parsed.msg.identity });
  res.setHeader("cache-control", "no-store");
  sendJson(res, 200, { token });
}

/** Collects the body up to `maxBytes`; past it, stops reading (the response closes the connection). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | "too-large" | "aborted"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve("too-large");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        req.off("data", onData);
        resolve("too-large");
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", () => resolve("aborted"));
    req.once("close", () => resolve(size > maxBytes ? "too-large" : "aborted"));
  });
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader("allow", allow);
  sendError(res, 405, "METHOD_NOT_ALLOWED", `use ${allow}`);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, closeConnection = false, field?: string): void {
  if (closeConnection) res.setHeader("connection", "close");
  sendJson(res, status, { error: { code, message, ...(field !== undefined ? { field } : {}) } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
