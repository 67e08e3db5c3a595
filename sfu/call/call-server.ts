/**
 * The call server: signalling (HTTP + WebSocket), one werift peer connection per participant,
 * and an AI peer in every room that watches the room's video, steers the publisher's bits with
 * region maps and rate targets, and answers questions through the MLLM port.
 *
 * Receive policy (`receivePolicy`): "resilient" by default, no retransmission for the AI-bound
 * video (generic NACK is declined in the answer), incomplete frames dropped at a short deadline,
 * the previous good frame standing in, and a frame-rate target that follows the MLLM's sampling
 * rate, the measured loss and the bitrate (sfu/media/frame-rate-target.ts); "classic" is WebRTC's
 * way (NACK, wait, PLI) at the agent's frame rate. The policy is chosen per sender from its offer:
 * under "resilient", a sender that offers no per-frame FEC (a browser) gets `browserReceivePolicy`,
 * classic by default, since without repair its long-GOP video loses more frames under resilient.
 *
 * Per-frame FEC: under the resilient policy a publisher that offers a parity stream (the headless
 * publisher does; browsers do not) gets it taken: its video runs `resilientPolicy({ fec: true })`
 * with a FrameFecReceiver before the jitter buffer (room-media.ts, receive-path.ts), and the
 * frame-rate target counts the parity (`fec` input). Under classic, or with `fec: false`, the
 * parity stream is declined and the publisher sends the video alone.
 *
 * Rate targets: the agent's (with or without a region map), capped by the link's loss-based
 * ceiling, and under the resilient policy with the frame-rate target as the frame rate.
 *
 * Metrics per call (received bitrate, frame rate, frames lost / late / substituted / recovered,
 * frame delay, policy, question to first answer token) are served as JSON at GET /api/metrics and
 * logged as structured events.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AiAgent, type AgentOptions, type AgentRateSource, type AnswerFrame, type RateTarget, type VisionOnDemandOptions } from "../agent/agent.ts";
import type { ModelNeedOptions } from "../agent/model-need.ts";
import { ContextEngine, type RegionFinder } from "../agent/context-engine.ts";
import { FairScheduler } from "../agent/scheduler.ts";
import { answerFramePicture, shrinkFrame } from "./answer-frame.ts";
import { frameRateTarget, PacketLossWindow, type FrameRateTargetOptions } from "../media/frame-rate-target.ts";
import { LoopStallWatch } from "../media/gcc/loop-stalls.ts";
import { receivePolicyByName, resilientPolicy, type ReceivePolicy, type ReceivePolicyName } from "../media/receive-policy.ts";
import type { MllmClient } from "../mllm/types.ts";
import type { FromPublisherMessage } from "../protocol/datachannel.ts";
import { SignalingServer } from "../signaling/server.ts";
import { silentLogger, type Logger, type PeerHandle } from "../signaling/types.ts";
import { LinkRateController, lossIsCongestion } from "./link-rate.ts";
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
  /** How the AI path answers loss. Default "resilient"; "classic" = NACK, wait, PLI. */
  readonly receivePolicy?: ReceivePolicyName;
  /**
   * Take a publisher's per-frame FEC parity stream when it offers one (resilient policy only;
   * classic repairs with NACK and always declines it). Default true.
   */
  readonly fec?: boolean;
  /**
   * How the AI path answers loss for a sender that offers no per-frame FEC (browsers; the
   * headless publisher with `fec` off), and how long it waits for a frame (ms). Default under the
   * resilient policy: classic with a 300 ms wait (a round trip plus ~200 ms, see frameWaitMs; the
   * same wait for "layered", whose base layer is repaired the same way).
   * Chromium's long-GOP video without repair lost more frames under resilient than under classic
   * (issue 14: through the UDP relay at 5% / 10% loss, 7.2 / 5.3 decoded frames a second against
   * classic's 8.8 / 7.0, and 13.6 / 10.7 with a 300 ms wait). Under the classic policy every
   * sender runs classic with `frameWaitMs`.
   */
  readonly browserReceivePolicy?: ReceivePolicyName;
  readonly browserFrameWaitMs?: number;
  /** The metrics' frame delay percentiles are over this many recent frames per call. Default 300 (20 s at 15 fps). */
  readonly frameDelayWindow?: number;
  /**
   * Run GCC's delay-based estimate on each participant's video (abs-send-time, sfu/media/gcc) and
   * cap the rate target with it, besides the loss-based ceiling. Default true.
   */
  readonly delayBasedRate?: boolean;
  /**
   * Longest wait for an incomplete frame, ms (default 100). With classic, a retransmission needs a
   * round trip plus the NACK's detection: give it rtt + ~200 ms or most repairs come too late.
   */
  readonly frameWaitMs?: number;
  /**
   * The resilient policy's frame-rate target: the MLLM's sampling rate (default 2 fps, also the
   * rate of the sampler that counts substitutions), freshness, bits per frame (frame-rate-target.ts).
   */
  readonly frameRate?: FrameRateTargetOptions;
  /** Size the AI sees the video at. Default 1280x720. */
  readonly analysisWidth?: number;
  readonly analysisHeight?: number;
  readonly iceAdditionalHostAddresses?: string[];
  readonly logger?: Logger;
  /** Milliseconds since the epoch (maps' valid-until times use it). Default: monotonic, epoch-based. */
  readonly clock?: () => number;
  /**
   * Model calls run at once, across all rooms (the FairScheduler shares them between rooms in
   * turn). Default 1. For the embedded engine give twice its worker count: each worker then holds
   * a second call, and runs the model steps of the room that had less model time lately first
   * (engine.ts).
   */
  readonly modelConcurrency?: number;
  /** The agent's question queue and waits (AgentOptions: maxQueued, firstFrameWaitMs, maxQuestionChars, mapWaitMs). */
  readonly agent?: Pick<AgentOptions, "maxQueued" | "firstFrameWaitMs" | "maxQuestionChars" | "mapWaitMs" | "framesPerQuestion">;
  /**
   * Vision on demand: between questions the publisher idles at a keep-alive frame rate (default
   * 2 fps, its encoder otherwise unchanged) and a question brings the full frame rate back at once
   * (agent.ts). Default off.
   */
  readonly visionOnDemand?: VisionOnDemandOptions | null;
  /**
   * The model-need cap: the rate walks down a ladder while the model reads with margin and back
   * up when it cannot (sfu/agent/model-need.ts, after ReCapABR). Needs a model that rates
   * readability (the embedded engine). Default off.
   */
  readonly modelNeed?: ModelNeedOptions | null;
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
  /** The bitrate and frame rate in the last rate target sent. */
  sentBps: number | null;
  sentFps: number | null;
  /** Packet loss on the link over the last seconds (before retransmission). */
  readonly loss: PacketLossWindow;
  /** The publisher says it sends every frame as a keyframe (its `metrics` message). */
  senderIntraOnly: boolean;
  readonly timer: NodeJS.Timeout;
}

/** Video counts as live while its newest frame is younger than this. */
const VIDEO_LIVE_MS = 2000;

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
  /** GCC's delay-based estimate from the video's send and arrival times; null before any packet carries abs-send-time. */
  readonly delayBitrateBps: number | null;
  /** The over-use detector's signal (draft-ietf-rmcat-gcc-02 §5.4). */
  readonly delayUsage: "normal" | "overuse" | "underuse" | null;
  /** Packets read behind a stall of the server's event loop, whose arrival time the estimate left out (loop-stalls.ts). */
  readonly delayUntimedPackets: number | null;
  /**
   * The ceiling that sets the rate target: the configured rate ("agent": normal, or mapped while a
   * map is applied), the model's need ("model"), the loss-based or the delay-based estimate.
   */
  readonly rateBoundBy: AgentRateSource | "loss" | "delay";
  /** The model-need cap now (null when off). */
  readonly modelNeedBitrateBps: number | null;
  /**
   * Vision on demand (null when off): idling now, questions that resumed the video, and the newest
   * resumes' waits for a frame captured after the question (ms).
   */
  readonly vision: { readonly idle: boolean; readonly resumes: number; readonly resumeWaitMs: readonly number[] } | null;
  readonly targetBitrateBps: number | null;
  /** The frame rate in the last rate target sent. */
  readonly targetFramerate: number | null;
  readonly frameRate: number | null;
  /** The receive policy this participant's video runs (chosen from its offer: `browserReceivePolicy` for a sender without FEC). */
  readonly receivePolicy: string;
  /** Whether the answer negotiated generic NACK (false under the resilient policy). */
  readonly retransmissionsNegotiated: boolean;
  /** Packet loss on the link over the last 5 s, before any retransmission. */
  readonly packetLossRate: number;
  readonly packetsReceived: number;
  readonly packetsMalformed: number;
  readonly framesDecoded: number;
  readonly framesLost: number;
  readonly framesLate: number;
  /** Samples at the MLLM's rate served by the previous good frame. */
  readonly framesSubstituted: number;
  /** Frames completed by a retransmitted (or reordered) packet: they waited for it. */
  readonly framesRecovered: number;
  readonly framesDroppedAtDeadline: number;
  /** Complete frames not decoded because an earlier frame was lost (no keyframe since). */
  readonly framesSkipped: number;
  readonly packetsNacked: number;
  readonly packetsMissed: number;
  /** Missed packets that still came in time: reordered, retransmitted, or rebuilt by the FEC. */
  readonly packetsRecovered: number;
  readonly keyframeRequests: number;
  /** Whether the publisher's per-frame FEC parity stream was offered and taken. */
  readonly fecNegotiated: boolean;
  /** The publisher reported that it sends every frame as a keyframe (metrics message `intraOnly`). */
  readonly senderIntraOnly: boolean;
  /**
   * The FEC receiver's counters (null without FEC): parity packets received, media packets it
   * rebuilt, frames those completed, parity groups dropped still short, malformed parity packets.
   */
  readonly fec: {
    readonly parityReceived: number;
    readonly packetsRecovered: number;
    readonly framesRepaired: number;
    readonly groupsUnrepaired: number;
    readonly malformed: number;
  } | null;
  readonly receiveLatencyMs: { readonly p50: number | null; readonly p95: number | null };
  /** Capture until available to the MLLM (a dropped frame: until the next good one), above the fastest frame. */
  readonly frameDelayMs: { readonly p50: number | null; readonly p95: number | null };
  readonly questions: ReadonlyArray<{ readonly id: string; readonly firstTokenMs: number | null; readonly mapVersion: number | null }>;
}

export class CallServer {
  private readonly http: Server;
  private readonly signaling: SignalingServer;
  private readonly participants = new Map<string, Participant>();
  private readonly log: Logger;
  private readonly clock: () => number;
  /** The event loop's stalls, so that packets read behind one give GCC no delay sample (loop-stalls.ts). */
  private readonly loopStalls: LoopStallWatch | null;
  private readonly policyName: ReceivePolicyName;
  /** Shares the model between rooms (every agent's model calls go through it). */
  readonly scheduler: FairScheduler;

  constructor(private readonly o: CallServerOptions) {
    this.scheduler = new FairScheduler(o.modelConcurrency ?? 1);
    this.log = o.logger ?? silentLogger;
    this.policyName = (o.receivePolicy ?? "resilient") as ReceivePolicyName;
    receivePolicyByName(this.policyName); // a bad name fails here, not at the first join
    frameRateTarget({ lossRate: 0, bitrateBps: 1, maxFps: 1 }, o.frameRate); // and so do bad frame-rate options
    if (o.browserReceivePolicy !== undefined) receivePolicyByName(o.browserReceivePolicy);
    for (const [field, v] of [["frameWaitMs", o.frameWaitMs], ["browserFrameWaitMs", o.browserFrameWaitMs]] as const) {
      if (v !== undefined && !(v >= 0 && Number.isFinite(v))) throw new RangeError(`${field} must be a finite number >= 0, got ${v}`);
    }
    // Epoch-based and monotonic: region maps carry valid-until times the publisher compares with
    // its own clock, so both sides must count from the epoch (NTP keeps hosts close enough).
    this.clock = o.clock ?? (() => performance.timeOrigin + performance.now());
    this.loopStalls = (o.delayBasedRate ?? true) ? new LoopStallWatch({ clock: this.clock }) : null;
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
        onAnswerFrameRequest: (peer, questionId) => this.sendAnswerFrame(peer, questionId),
        onLeave: (peer, reason) => this.onLeave(peer, reason),
      },
    });
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<AddressInfo> {
    const addr = await this.signaling.listen(port, host);
    this.loopStalls?.start();
    return addr;
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
      policy: receivePolicyByName(this.policyName),
      ...(this.policyName === "resilient" && (this.o.fec ?? true) ? { fecPolicy: resilientPolicy({ fec: true }) } : {}),
      ...(this.policyName === "resilient" ? { plainSender: this.plainSenderPath() } : {}),
      ...(this.o.frameWaitMs !== undefined ? { frameWaitMs: this.o.frameWaitMs } : {}),
      ...((this.o.delayBasedRate ?? true) ? { delayBased: { minBps: Math.min(100_000, mappedRate.maxBitrateBps), maxBps: normalRate.maxBitrateBps } } : {}),
      ...(this.loopStalls ? { untimedRead: (nowMs: number) => this.loopStalls!.untimed(nowMs) } : {}),
      onDelayEstimateDrop: (bps) => {
        // GCC's receiver sends REMB at once when its estimate falls (draft-ietf-rmcat-gcc-02 §5.6),
        // not at the next tick: a queue grows by the second.
        const p = this.participants.get(peer.peerId);
        if (p && p.heard && p.sentBps !== null && bps < 0.9 * p.sentBps) this.sendRate(peer.peerId);
      },
      ...(this.o.frameRate?.samplingFps !== undefined ? { samplingFps: this.o.frameRate.samplingFps } : {}),
      ...(this.o.frameDelayWindow !== undefined ? { frameDelayWindow: this.o.frameDelayWindow } : {}),
      log: (r) => {
        const { level, msg, ...rest } = r as { level: string; msg: string };
        const fields = { ...logCtx, ...rest };
        if (level === "warn") this.log.warn(`media.${msg}`, fields);
        else if (level === "error") this.log.error(`media.${msg}`, fields);
        else if (level === "info") this.log.info(`media.${msg}`, fields);
      },
      onControlOpen: () => {
        this.sendRate(peer.peerId);
        this.participants.get(peer.peerId)?.agent.repeatState();
      },
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
      onControlError: (message, questionId) => {
        this.log.warn("control.bad-message", { ...logCtx, message });
        // A question that does not parse still gets a final answer saying why, so the asker is
        // not left waiting.
        if (questionId !== undefined) media.sendControl({ type: "answer-chunk", id: questionId, text: `I could not read that question: ${message}`, final: true });
      },
    });
    agent = new AiAgent(
      {
        recentFrames: (n) => media.recentFrames(n),
        requestKeyframe: () => media.requestKeyframe(),
        newestKeyframe: () => media.newestKeyframe(),
        sendToPublisher: (msg) => {
          if (msg.type === "rate-target") {
            const p = this.participants.get(peer.peerId);
            if (p) {
              msg = { ...msg, ...this.rateFor(p, msg) };
              p.rateSentMs = this.clock();
              p.sentBps = msg.maxBitrateBps;
              p.sentFps = msg.maxFramerate;
            }
            media.sendRemb(msg.maxBitrateBps);
          }
          return media.sendControl(msg);
        },
        emitAnswer: (chunk) => {
          media.sendControl({ type: "answer-chunk", id: chunk.id, text: chunk.text, final: chunk.final });
          peer.send({ type: "chat", from: "assistant", id: chunk.id, text: chunk.text, final: chunk.final });
        },
        emitState: (st) => {
          media.sendControl({ type: "agent-state", ...st });
          peer.send({ type: "agent-state", ...st });
          this.log.info("agent.state", { ...logCtx, ...st });
        },
        shrink: shrinkFrame,
        schedule: <T>(task: () => Promise<T>, signal?: AbortSignal) => this.scheduler.run(peer.room, task, signal),
        now: this.clock,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()),
        log: (event, fields) => this.log.info(`agent.${event}`, { ...logCtx, ...fields }),
      },
      this.o.model,
      this.o.regionFinder ? new ContextEngine(this.o.regionFinder) : null,
      {
        normalRate, mappedRate, sendMaps: this.o.sendMaps ?? true, account: peer.room, ...this.o.agent,
        visionOnDemand: this.o.visionOnDemand ?? null, modelNeed: this.o.modelNeed ?? null,
      },
    );
    const link = new LinkRateController({ minBps: Math.min(100_000, mappedRate.maxBitrateBps), maxBps: normalRate.maxBitrateBps });
    const loss = new PacketLossWindow();
    // Once a second: fold the link's packet loss into the rate target; tell the publisher when the
    // bitrate moves by 10% or the frame rate by a fifth (each change restarts its encoder).
    const timer = setInterval(() => {
      const p = this.participants.get(peer.peerId);
      const st = media.stats();
      if (!p || !st) return;
      const now = this.clock();
      // GCC's loss controller works on packet loss (draft-ietf-rmcat-gcc-02 §6); counted before any
      // retransmission, it is what the link did, whatever the policy makes of it.
      // Loss counts as congestion only with a standing queue, when the delay-based estimate
      // can tell (link-rate.ts): random loss is the FEC's to absorb, not a reason to send less.
      link.update(st.packetsMissed, st.packetsExpected - st.packetsMissed, now, lossIsCongestion(media.takeMaxQueueMs()));
      const newest = media.recentFrames(1)[0];
      agent!.onVideo(newest !== undefined && newest.arrivalMs > now - VIDEO_LIVE_MS);
      agent!.tick(now);
      loss.update(st.packetsExpected, st.packetsMissed, now);
      const want = this.rateFor(p, agent!.currentRate(now));
      if (!p.heard || p.sentBps === null) return;
      const fpsMoved = p.sentFps !== null && Math.abs(want.maxFramerate - p.sentFps) >= Math.max(1, 0.2 * p.sentFps);
      if (Math.abs(want.maxBitrateBps - p.sentBps) > 0.1 * p.sentBps || fpsMoved) this.sendRate(peer.peerId);
    }, 1000);
    timer.unref();
    this.participants.set(peer.peerId, {
      peer, media, agent, joinedMs: this.clock(), rateSentMs: null, heard: false, link, sentBps: null, sentFps: null, loss, senderIntraOnly: false, timer,
    });
    agent.repeatState();
    this.log.info("call.joined", logCtx);
  }

  /**
   * The receive path of a sender that offers no per-frame FEC, under the resilient policy: the
   * configured browser policy; classic and layered wait 300 ms for a retransmission unless told,
   * resilient waits `frameWaitMs` (ParticipantMedia's own default for `plainSender`).
   */
  private plainSenderPath(): { policy: ReceivePolicy; frameWaitMs?: number } {
    const name = this.o.browserReceivePolicy ?? "classic";
    const frameWaitMs = this.o.browserFrameWaitMs ?? (name !== "resilient" ? 300 : undefined);
    return { policy: receivePolicyByName(name), ...(frameWaitMs !== undefined ? { frameWaitMs } : {}) };
  }

  /**
   * The rate target to send: the agent's bitrate capped by the link (the lower of GCC's loss-based
   * and delay-based estimates, draft-ietf-rmcat-gcc-02 §4); the frame rate is the agent's under the
   * classic policy and the frame-rate target (at most the agent's) under the resilient one.
   */
  private rateFor(p: Participant, target: RateTarget): RateTarget {
    const maxBitrateBps = Math.round(Math.min(target.maxBitrateBps, p.link.bitrateBps, p.media.delayEstimate()?.estimateBps ?? Infinity));
    if (p.media.policyName !== "resilient") return { maxBitrateBps, maxFramerate: target.maxFramerate };
    // With FEC the publisher spends part of the bitrate on parity and a frame survives loss
    // unless more than its parity is lost: the frame-rate target counts both. Without FEC a
    // publisher that sends only keyframes needs more bits a frame to be readable.
    const fec = p.media.fecNegotiated;
    const f = frameRateTarget(
      { lossRate: p.loss.lossRate, bitrateBps: maxBitrateBps, maxFps: target.maxFramerate, ...(fec ? { fec: {} } : { intraOnly: p.senderIntraOnly }) },
      this.o.frameRate,
    );
    return { maxBitrateBps, maxFramerate: f.fps };
  }

  private sendRate(peerId: string): void {
    const p = this.participants.get(peerId);
    if (!p) return;
    const r = this.rateFor(p, p.agent.currentRate(this.clock()));
    const sent = p.media.sendControl({ type: "rate-target", maxBitrateBps: r.maxBitrateBps, maxFramerate: r.maxFramerate });
    this.log.info("call.rate-target", { room: p.peer.room, peer: peerId, sent, ...r, packetLossRate: Number(p.loss.lossRate.toFixed(4)) });
    if (sent) {
      p.rateSentMs = this.clock();
      p.sentBps = r.maxBitrateBps;
      p.sentFps = r.maxFramerate;
      p.media.sendRemb(r.maxBitrateBps);
    }
  }

  /** Sends the frame the answer to `questionId` used, as a small JPEG, or NOT_FOUND. */
  private async sendAnswerFrame(peer: PeerHandle, questionId: string): Promise<void> {
    const p = this.participants.get(peer.peerId);
    const f = p?.agent.answerFrame(questionId);
    if (!p || !f) {
      peer.send({ type: "error", code: "NOT_FOUND", message: `no answer frame for question "${questionId}": only the last answers' frames are kept`, field: "questionId", requestId: questionId });
      return;
    }
    peer.send(await answerFramePicture(this.o.ffmpeg, f, p.media.stats()?.bitrateBps ?? null));
  }

  private onControl(peer: PeerHandle, agent: AiAgent, msg: FromPublisherMessage): void {
    switch (msg.type) {
      case "question":
        void agent.onQuestion(msg.id, msg.text);
        break;
      case "region-map-ack":
        agent.onMapAck(msg.version, msg.applied);
        break;
      case "metrics": {
        // The publisher's own figures, once a second: the call's metrics cover them, all but
        // its intra-only mode, which changes the frame-rate target.
        const p = this.participants.get(peer.peerId);
        if (p && msg.intraOnly !== undefined && msg.intraOnly !== p.senderIntraOnly) {
          p.senderIntraOnly = msg.intraOnly;
          this.log.info("call.sender-intra-only", { room: peer.room, peer: peer.peerId, intraOnly: msg.intraOnly });
          if (p.media.policyName === "resilient") this.sendRate(peer.peerId);
        }
        break;
      }
      default:
        break;
    }
  }

  private async onLeave(peer: PeerHandle, reason: string): Promise<void> {
    const p = this.participants.get(peer.peerId);
    if (!p) return;
    this.participants.delete(peer.peerId);
    clearInterval(p.timer);
    p.agent.close();
    this.log.info("call.left", { reason, ...this.metricsOf(p) });
    await p.media.close();
  }

  /** Which ceiling sets the rate target now: the agent's (the model's need or the configured cap), loss or delay. */
  private boundBy(p: Participant, delayBps: number | null): AgentRateSource | "loss" | "delay" {
    const now = this.clock();
    const agentBps = p.agent.currentRate(now).maxBitrateBps;
    const lowest = Math.min(agentBps, p.link.bitrateBps, delayBps ?? Infinity);
    if (agentBps === lowest) return p.agent.rateSource(now);
    return p.link.bitrateBps === lowest ? "loss" : "delay";
  }

  private metricsOf(p: Participant): CallMetrics {
    const s = p.media.stats();
    const rate = p.agent.rateState;
    const delay = p.media.delayEstimate();
    return {
      room: p.peer.room,
      identity: p.peer.identity,
      peerId: p.peer.peerId,
      durationMs: Math.round(this.clock() - p.joinedMs),
      receivedBitrateBps: s ? Math.round(s.bitrateBps) : null,
      linkBitrateBps: Math.round(p.link.bitrateBps),
      delayBitrateBps: delay ? delay.estimateBps : null,
      delayUsage: delay ? delay.usage : null,
      delayUntimedPackets: delay ? delay.untimedPackets : null,
      rateBoundBy: this.boundBy(p, delay?.estimateBps ?? null),
      modelNeedBitrateBps: rate.modelNeedBps,
      vision: this.o.visionOnDemand ? { idle: rate.visionIdle, resumes: rate.resumes, resumeWaitMs: rate.resumeWaitMs } : null,
      targetBitrateBps: p.sentBps,
      targetFramerate: p.sentFps,
      frameRate: s ? s.frameRate : null,
      receivePolicy: p.media.policyName,
      retransmissionsNegotiated: p.media.retransmissionsNegotiated,
      packetLossRate: p.loss.lossRate,
      packetsReceived: s?.packetsReceived ?? 0,
      packetsMalformed: s?.packetsMalformed ?? 0,
      framesDecoded: s?.framesDecoded ?? 0,
      framesLost: s?.framesLost ?? 0,
      framesLate: s?.framesLate ?? 0,
      framesSubstituted: s?.framesSubstituted ?? 0,
      framesRecovered: s?.framesRecovered ?? 0,
      framesDroppedAtDeadline: s?.framesDroppedAtDeadline ?? 0,
      framesSkipped: s?.framesSkipped ?? 0,
      packetsNacked: s?.packetsNacked ?? 0,
      packetsMissed: s?.packetsMissed ?? 0,
      packetsRecovered: s?.packetsRecovered ?? 0,
      keyframeRequests: s?.keyframeRequests ?? 0,
      fecNegotiated: p.media.fecNegotiated,
      senderIntraOnly: p.senderIntraOnly,
      fec: s?.fec
        ? { parityReceived: s.fec.parityReceived, packetsRecovered: s.fec.packetsRecovered, framesRepaired: s.fec.framesRepaired, groupsUnrepaired: s.fec.groupsUnrepaired, malformed: s.fec.malformed }
        : null,
      receiveLatencyMs: { p50: s?.receiveLatencyMs.p50 ?? null, p95: s?.receiveLatencyMs.p95 ?? null },
      frameDelayMs: { p50: s?.frameDelayMs.p50 ?? null, p95: s?.frameDelayMs.p95 ?? null },
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
    this.loopStalls?.stop();
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
