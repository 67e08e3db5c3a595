/** The signalling server's options: one typed place, documented defaults, merged and checked once. */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { DEFAULT_MAX_MESSAGE_BYTES, IDENTIFIER_PATTERN, type IceServer } from "../protocol/messages.ts";
import { SignalingError } from "./errors.ts";
import { DEFAULT_MAX_PARTICIPANTS_PER_ROOM } from "./rooms.ts";
import { MAX_TOKEN_TTL_SEC, MIN_SECRET_BYTES, type TokenSecret } from "./tokens.ts";
import { silentLogger, type Logger, type SignalingHandlers } from "./types.ts";

export interface SignalingServerOptions {
  /** HMAC key for room tokens, at least 32 bytes (RFC 2104 §3). Entry points read it from the environment. */
  readonly secret: TokenSecret;
  readonly handlers: SignalingHandlers;
  /** Attach to this server instead of creating one; it is then left open by `close()`. */
  readonly server?: Server;
  /** Default: silent (library code does not print). */
  readonly logger?: Logger;
  /** Wall clock in ms since the epoch, for token expiry. Default `Date.now`. */
  readonly now?: () => number;
  /** Peer and chat ids. Default `crypto.randomUUID`. */
  readonly newId?: () => string;
  /** WebSocket path. Default "/ws". */
  readonly path?: string;
  /** Largest signalling message; larger ones get `error TOO_LARGE` and the socket stays open. Default 64 KiB. */
  readonly maxMessageBytes?: number;
  /** Largest WebSocket frame at all; larger ones close the socket with 1009. Default 16 x maxMessageBytes. */
  readonly maxFrameBytes?: number;
  /** Participants per room, the AI peer not counted. Default 8. */
  readonly maxParticipantsPerRoom?: number;
  /** The AI peer's identity, reported in `joined` and reserved. Default "assistant". */
  readonly aiIdentity?: string;
  /** Sent to clients in `joined`. Default none (host candidates only, fine on a LAN or loopback). */
  readonly iceServers?: readonly IceServer[];
  /** WebSocket ping interval; a socket silent for a whole interval is dropped. Default 15 s. */
  readonly heartbeatIntervalMs?: number;
  /** Lifetime of tokens from `POST /api/token`. Default 3600 s. */
  readonly tokenTtlSec?: number;
  /** Serve `POST /api/token` to anyone (a development convenience; see `http.ts`). Default true. */
  readonly issueTokens?: boolean;
  /** Largest HTTP request body. Default 4 KiB. */
  readonly maxHttpBodyBytes?: number;
  /** How long `close()` waits for a client's closing handshake before dropping it. Default 2 s. */
  readonly closeTimeoutMs?: number;
}

export type ResolvedOptions = Required<Omit<SignalingServerOptions, "server">>;

export function resolveOptions(o: SignalingServerOptions): ResolvedOptions {
  const maxMessageBytes = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const r: ResolvedOptions = {
    secret: o.secret,
    handlers: o.handlers,
    logger: o.logger ?? silentLogger,
    now: o.now ?? Date.now,
    newId: o.newId ?? randomUUID,
    path: o.path ?? "/ws",
    maxMessageBytes,
    maxFrameBytes: o.maxFrameBytes ?? 16 * maxMessageBytes,
    maxParticipantsPerRoom: o.maxParticipantsPerRoom ?? DEFAULT_MAX_PARTICIPANTS_PER_ROOM,
    aiIdentity: o.aiIdentity ?? "assistant",
    iceServers: o.iceServers ?? [],
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 15_000,
    tokenTtlSec: o.tokenTtlSec ?? 3600,
    issueTokens: o.issueTokens ?? true,
    maxHttpBodyBytes: o.maxHttpBodyBytes ?? 4096,
    closeTimeoutMs: o.closeTimeoutMs ?? 2000,
  };
  const secretBytes = typeof r.secret === "string" ? Buffer.byteLength(r.secret) : r.secret.byteLength;
  if (secretBytes < MIN_SECRET_BYTES) throw bad(`secret must be at least ${MIN_SECRET_BYTES} bytes (RFC 2104 §3), got ${secretBytes}`);
  positiveInt("maxMessageBytes", r.maxMessageBytes);
  positiveInt("maxFrameBytes", r.maxFrameBytes);
  if (r.maxFrameBytes < r.maxMessageBytes) throw bad(`maxFrameBytes (${r.maxFrameBytes}) must be >= maxMessageBytes (${r.maxMessageBytes})`);
  positiveInt("maxParticipantsPerRoom", r.maxParticipantsPerRoom);
  positiveInt("heartbeatIntervalMs", r.heartbeatIntervalMs);
  positiveInt("maxHttpBodyBytes", r.maxHttpBodyBytes);
  positiveInt("closeTimeoutMs", r.closeTimeoutMs);
  if (!Number.isInteger(r.tokenTtlSec) || r.tokenTtlSec < 1 || r.tokenTtlSec > MAX_TOKEN_TTL_SEC) {
    throw bad(`tokenTtlSec must be an integer in 1..${MAX_TOKEN_TTL_SEC}, got ${r.tokenTtlSec}`);
  }
  if (!IDENTIFIER_PATTERN.test(r.aiIdentity)) throw bad(`aiIdentity must be 1..64 characters of [A-Za-z0-9_.-], got ${JSON.stringify(r.aiIdentity)}`);
  if (!r.path.startsWith("/")) throw bad(`path must start with "/", got ${JSON.stringify(r.path)}`);
  return r;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw bad(`${name} must be an integer >= 1, got ${v}`);
}

function bad(message: string): SignalingError {
  return new SignalingError("INVALID_OPTION", message);
}
