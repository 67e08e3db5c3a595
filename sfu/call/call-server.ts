/**
 * The call server: signalling (HTTP + WebSocket), one werift peer connection per participant,
 * and an AI peer in every room that watches the room's video, steers the publisher's bits with
 * region maps and rate targets, and answers questions through the MLLM port.
 *
 * Metrics per call (received bitrate, frame rate, frames lost / late / substituted, question to
 * first answer token) are served as JSON at GET /api/metrics and logged as structured events.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AiAgent, type RateTarget } from "../agent/agent.ts";
import { ContextEngine, type RegionFinder } from "../agent/context-engine.ts";
import type { MllmClient } from "../mllm/types.ts";
import type { FromPublisherMessage } from "../protocol/datachannel.ts";
import { SignalingServer } from "../signaling/server.ts";
import { silentLogger, type Logger, type PeerHandle } from "../signaling/types.ts";
import { LinkRateController } from "./link-rate.ts";
import { ParticipantMedia } from "./room-media.ts";

export interface CallServerOptions {
  /** HMAC key for room tokens (>= 32 bytes); entry points read it from the environment. */
  readonly secret: string;
  readonly ffmpeg: string;
  readonly model: MllmClient;
  /** Where region maps come from; null = no context loop. */
  readonly regionFinder: RegionFinder | null;
  /** Rate target without a map (default 600 kbps, 15 fps) and with one (default 240 kbps, 15 fps). */
  readonly normalRate?: RateTarget;
  readonly mappedRate?: RateTarget;
  /** Send region maps (false = control runs: same rates, no maps). Default true. */
  readonly sendMaps?: boolean;
  /** Size the AI sees the video at. Default 1280x720. */
  readonly analysisWidth?: number;
  readonly analysisHeight?: number;
  readonly iceAdditionalHostAddresses?: string[];
  readonly logger?: Logger;
  /** Milliseconds since the epoch (maps' valid-until times use it). Default: monotonic, epoch-based. */
  readonly clock?: () => number;
  /** Extra HTTP routes (the browser client's files); return true when handled. */
  readonly httpRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

interface Participant {
  readonly peer: PeerHandle;
  readonly media: ParticipantMedia;
  readonly agent: AiAgent;
  readonly joinedMs: number;
  /** When the rate target was last sent (it is soft state: re-sent while the publisher talks). */
  rateSentMs: number | null;
  /** Whether anything has come from the publisher's control channel yet. */
  heard: boolean;
  /** What the link carries, from the frames lost on it (GCC's loss controller). */
  readonly link: LinkRateController;
  /** The bitrate in the last rate target sent. */
  sentBps: number | null;
  readonly timer: NodeJS.Timeout;
}

/** Rate targets are re-sent this often while the control channel carries traffic. */
const RATE_REFRESH_MS = 5000;

export interface CallMetrics {
  readonly room: string;
  readonly identity: string;
  readonly peerId: string;
  readonly durationMs: number;
  readonly receivedBitrateBps: number | null;
  /** The link's loss-based ceiling and the bitrate in the last rate target sent. */
  readonly linkBitrateBps: number;
  readonly targetBitrateBps: number | null;
  readonly frameRate: number | null;
  readonly packetsReceived: number;
  readonly packetsMalformed: number;
  readonly framesDecoded: number;
  readonly framesLost: number;
  readonly framesLate: number;
  readonly framesSubstituted: number;
  readonly receiveLatencyMs: { readonly p50: number | null; readonly p95: number | null };
  readonly questions: ReadonlyArray<{ readonly id: string; readonly firstTokenMs: number | null; readonly mapVersion: number | null }>;
}

export class CallServer {
  private readonly http: Server;
  private readonly signaling: SignalingServer;
  private readonly participants = new Map<string, Participant>();
  private readonly log: Logger;
  private readonly clock: () => number;

  constructor(private readonly o: CallServerOptions) {
    this.log = o.logger ?? silentLogger;
    // Epoch-based and monotonic: region maps carry valid-until times the publisher compares with
    // its own clock, so both sides must count from the epoch (NTP keeps hosts close enough).
    this.clock = o.clock ?? (() => performance.timeOrigin + performance.now());
    this.http = createServer((req, res) => this.route(req, res));
    this.signaling = new SignalingServer({
      secret: o.secret,
      server: this.http,
      logger: this.log,
      handlers: {
        onJoin: (peer) => this.onJoin(peer),
        onOffer: async (peer, sdp) => {
          const p = this.participants.get(peer.peerId);
          if (!p) return;
          peer.send({ type: "answer", sdp: await p.media.answer(sdp) });
        },
        onAnswer: () => {},
        onIce: async (peer, c) => {
          const p = this.participants.get(peer.peerId);
          if (!p || !c) return;
          await p.media.pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined });
        },
        onChat: (peer, text, id) => {
          const p = this.participants.get(peer.peerId);
          if (p) void p.agent.onQuestion(id, text);
        },
        onLeave: (peer, reason) => this.onLeave(peer, reason),
      },
    });
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<AddressInfo> {
    return this.signaling.listen(port, host);
  }

  get participantCount(): number {
    return this.participants.size;
  }

  private onJoin(peer: PeerHandle): void {
    const normalRate = this.o.normalRate ?? { maxBitrateBps: 600_000, maxFramerate: 15 };
    const mappedRate = this.o.mappedRate ?? { maxBitrateBps: 240_000, maxFramerate: 15 };
    const logCtx = { room: peer.room, peer: peer.peerId, identity: peer.identity };
    let agent: AiAgent | null = null;
    const media = new ParticipantMedia({
      ffmpeg: this.o.ffmpeg,
      width: this.o.analysisWidth ?? 1280,
      height: this.o.analysisHeight ?? 720,
      iceAdditionalHostAddresses: this.o.iceAdditionalHostAddresses ?? ["127.0.0.1"],
      clock: this.clock,
      log: (r) => {
        const { level, msg, ...rest } = r as { level: string; msg: string };
        const fields = { ...logCtx, ...rest };
        if (level === "warn") this.log.warn(`media.${msg}`, fields);
        else if (level === "error") this.log.error(`media.${msg}`, fields);
        else if (level === "info") this.log.info(`media.${msg}`, fields);
      },
      onControlOpen: () => this.sendRate(peer.peerId),
      onControl: (msg: FromPublisherMessage) => {
        // A message sent the moment the channel opens can beat the publisher's listener, so the
        // rate target is soft state, refreshed whenever the publisher is heard from.
        const p = this.participants.get(peer.peerId);
        if (p && (!p.heard || p.rateSentMs === null || this.clock() - p.rateSentMs > RATE_REFRESH_MS)) {
          p.heard = true;
          this.sendRate(peer.peerId);
        }
        this.onControl(peer, agent!, msg);
      },
      onControlError: (message) => this.log.warn("control.bad-message", { ...logCtx, message }),
    });
    agent = new AiAgent(
      {
        recentFrames: (n) => media.recentFrames(n),
        sendToPublisher: (msg) => {
          if (msg.type === "rate-target") {
            const p = this.participants.get(peer.peerId);
            if (p) {
              msg = { ...msg, maxBitrateBps: Math.round(Math.min(msg.maxBitrateBps, p.link.bitrateBps)) };
              p.rateSentMs = this.clock();
              p.sentBps = msg.maxBitrateBps;
            }
            media.sendRemb(msg.maxBitrateBps);
          }
          return media.sendControl(msg);
        },
        emitAnswer: (chunk) => {
          media.sendControl({ type: "answer-chunk", id: chunk.id, text: chunk.text, final: chunk.final });
          peer.send({ type: "chat", from: "assistant", id: chunk.id, text: chunk.text, final: chunk.final });
        },
        now: this.clock,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()),
        log: (event, fields) => this.log.info(`agent.${event}`, { ...logCtx, ...fields }),
      },
      this.o.model,
      this.o.regionFinder ? new ContextEngine(this.o.regionFinder) : null,
      { normalRate, mappedRate, sendMaps: this.o.sendMaps ?? true },
    );
    const link = new LinkRateController({ minBps: Math.min(100_000, mappedRate.maxBitrateBps), maxBps: normalRate.maxBitrateBps });
    // Once a second: fold the link's frame loss into the rate target; tell the publisher when it moves by 10%.
    const timer = setInterval(() => {
      const p = this.participants.get(peer.peerId);
      const st = media.stats();
      if (!p || !st) return;
      link.update(st.framesLost, st.framesDecoded, this.clock());
      const want = Math.min(agent!.currentRate(this.clock()).maxBitrateBps, link.bitrateBps);
      if (p.heard && p.sentBps !== null && Math.abs(want - p.sentBps) > 0.1 * p.sentBps) this.sendRate(peer.peerId);
    }, 1000);
    timer.unref();
    this.participants.set(peer.peerId, { peer, media, agent, joinedMs: this.clock(), rateSentMs: null, heard: false, link, sentBps: null, timer });
    this.log.info("call.joined", logCtx);
  }

  private sendRate(peerId: string): void {
    const p = this.participants.get(peerId);
    if (!p) return;
    const target = p.agent.currentRate(this.clock());
    const r = { maxBitrateBps: Math.round(Math.min(target.maxBitrateBps, p.link.bitrateBps)), maxFramerate: target.maxFramerate };
    const sent = p.media.sendControl({ type: "rate-target", maxBitrateBps: r.maxBitrateBps, maxFramerate: r.maxFramerate });
    this.log.info("call.rate-target", { room: p.peer.room, peer: peerId, sent, ...r });
    if (sent) {
      p.rateSentMs = this.clock();
      p.sentBps = r.maxBitrateBps;
      p.media.sendRemb(r.maxBitrateBps);
    }
  }

  private onControl(peer: PeerHandle, agent: AiAgent, msg: FromPublisherMessage): void {
    switch (msg.type) {
      case "question":
        void agent.onQuestion(msg.id, msg.text);
        break;
      case "region-map-ack":
        agent.onMapAck(msg.version, msg.applied);
        break;
      default:
        // The publisher's own metrics, once a second: the call's metrics cover them.
        break;
    }
  }

  private async onLeave(peer: PeerHandle, reason: string): Promise<void> {
    const p = this.participants.get(peer.peerId);
    if (!p) return;
    this.participants.delete(peer.peerId);
    clearInterval(p.timer);
    this.log.info("call.left", { reason, ...this.metricsOf(p) });
    await p.media.close();
  }

  private metricsOf(p: Participant): CallMetrics {
    const s = p.media.stats();
    return {
      room: p.peer.room,
      identity: p.peer.identity,
      peerId: p.peer.peerId,
      durationMs: Math.round(this.clock() - p.joinedMs),
      receivedBitrateBps: s ? Math.round(s.bitrateBps) : null,
      linkBitrateBps: Math.round(p.link.bitrateBps),
      targetBitrateBps: p.sentBps,
      frameRate: s ? s.frameRate : null,
      packetsReceived: s?.packetsReceived ?? 0,
      packetsMalformed: s?.packetsMalformed ?? 0,
      framesDecoded: s?.framesDecoded ?? 0,
      framesLost: s?.framesLost ?? 0,
      framesLate: s?.framesLate ?? 0,
      framesSubstituted: s?.framesSubstituted ?? 0,
      receiveLatencyMs: { p50: s?.receiveLatencyMs.p50 ?? null, p95: s?.receiveLatencyMs.p95 ?? null },
      questions: p.agent.records().map((q) => ({
        id: q.id, mapVersion: q.mapVersion, firstTokenMs: q.firstTokenMs === null ? null : Math.round(q.firstTokenMs - q.askedMs),
      })),
    };
  }

  metrics(): CallMetrics[] {
    return [...this.participants.values()].map((p) => this.metricsOf(p));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/healthz" || path === "/api/token") return; // the signalling server answers these
    if (path === "/api/metrics" && req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ calls: this.metrics() }));
      return;
    }
    if (this.o.httpRoutes?.(req, res)) return;
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "NOT_FOUND", message: `no route ${req.method} ${path}` } }));
  }

  async close(): Promise<void> {
    await this.signaling.close();
    for (const p of this.participants.values()) clearInterval(p.timer);
    await Promise.all([...this.participants.values()].map((p) => p.media.close()));
    this.participants.clear();
    await new Promise<void>((r) => {
      this.http.close(() => r());
      this.http.closeAllConnections();
    });
  }
}
