/**
 * The headless publisher: joins a call from a video file instead of a camera, through the call
 * server's signalling (sfu/protocol/messages.ts) and a werift peer connection, and does what the
 * server says over the "control" data channel (sfu/protocol/datachannel.ts):
 *
 * - `region-map`: checked (RegionMapTracker), applied to the live encoder, acknowledged with
 *   `region-map-ack {version, applied, reason?}`; dropped again at its `validUntilMs`;
 * - `rate-target`: bitrate cap and frame-rate target; REMB from the receiver (the server's GCC
 *   estimate) caps the bitrate too (BitrateCap), RTCP PLI asks for a keyframe; packets leave paced
 *   at 2.5x the cap (pacer.ts), each stamped with abs-send-time as it goes;
 * - `answer-chunk`: streamed answers to the questions asked with `ask()`.
 *
 * Loss: when the server's answer declines generic NACK (its resilient receive policy) but takes the
 * FEC parity stream offered next to the video (peer.ts), every frame's media packets are followed
 * by `parityForFrame(k, smoothed loss)` Reed-Solomon parity packets (encoder/rtp/frame-fec.ts), and
 * the encoder's bitrate leaves room for them (fec-budget.ts); the keyframe interval stays. When the
 * server declines both (a resilient server without FEC), lost packets are not repaired at all, so
 * on a lossy link (RTCP receiver reports) every frame goes out as a keyframe and a PLI needs no
 * restart (LossResilience). NACKs and retransmissions are counted in `stats()`.
 *
 * It reports its own figures with `stats()` and, every `metricsIntervalMs`, as a `metrics` message.
 */
import { randomInt, randomUUID } from "node:crypto";
import { ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback, RtcpRrPacket, RtcpTransportLayerFeedback, TransportWideCC, type RTCRtpSender, type RtcpPacket } from "werift";
import { FrameFecSender } from "../../encoder/rtp/frame-fec.ts";
import { RtpPacketizer } from "../../encoder/rtp/packetizer.ts";
import { rtpPacketSize, serializeRtp, type RtpPacket } from "../../encoder/rtp/packet.ts";
import { absSendTimeBytes, absSendTimeId } from "../media/gcc/abs-send-time.ts";
import { CongestionWindow } from "../media/gcc/congestion-window.ts";
import { TRANSPORT_CC_URI } from "../media/gcc/transport-feedback.ts";
import { parseDataChannelMessage, type AgentStateMessage, type FromPublisherMessage, type RateTargetMessage, type RegionMapMessage } from "../protocol/datachannel.ts";
import type { AnswerFrameMessage } from "../protocol/messages.ts";
import { silentLogger, type Logger } from "../signaling/types.ts";
import { AnswerStreams } from "./answers.ts";
import { PublisherError } from "./errors.ts";
import { FecRateBudget, parityForFrame, type FecBudget } from "./fec-budget.ts";
import { TypedEvents } from "./events.ts";
import { LiveEncoder, type EncodedFrame, type LiveEncoderCounters, type LiveEncoderOptions } from "./live-encoder.ts";
import { LossResilience, type LossResilienceOptions } from "./loss-resilience.ts";
import { createPublisherPeer, fecNegotiated, negotiate, type PublisherPeer } from "./peer.ts";
import { Pacer } from "./pacer.ts";
import { RateMeter } from "./rate-meter.ts";
import { BitrateCap } from "./rate-policy.ts";
import { RegionMapTracker, regionMapVersion, type RegionMapDecision } from "./region-map.ts";
import { SignalingClient } from "./signaling-client.ts";

export interface HeadlessPublisherOptions {
  /** Signalling WebSocket, e.g. ws://127.0.0.1:8080/ws. */
  readonly serverUrl: string;
  readonly token: string;
  /** The video and how to encode it (`now` is the publisher's). */
  readonly encoder: Omit<LiveEncoderOptions, "now" | "admitFrame">;
  /** Extra ICE host addresses, e.g. ["127.0.0.1"] for loopback. */
  readonly iceAdditionalHostAddresses?: string[];
  /** Join, offer/answer and ICE must complete within this. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** How questions go out: as `question` on the data channel (default) or `chat` on signalling. */
  readonly questionsVia?: "datachannel" | "signaling";
  /** `metrics` to the server every this many ms; 0 = never. Default 1000. */
  readonly metricsIntervalMs?: number;
  /** When to send every frame as a keyframe if the server repairs no loss. */
  readonly lossResilience?: LossResilienceOptions;
  /**
   * Offer a per-frame FEC parity stream (peer.ts); it is sent only when the server's answer takes
   * it. Default true. False offers the video alone. (A server predating FEC refuses an offer with
   * it; the publisher then leaves and joins again without it by itself.)
   */
  readonly fec?: boolean;
  /**
   * Hold captured frames back while the bytes in flight fill the congestion window, from the
   * server's transport-wide CC feedback (sfu/media/gcc/congestion-window.ts). Default true; it
   * acts only when the server negotiates transport-cc, which the call server does for senders that
   * offer the parity stream (`fec`, the default).
   */
  readonly congestionWindow?: boolean;
  /** Wall clock, ms since the epoch (region maps' `validUntilMs` is on it). Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

export type PublisherState = "idle" | "connecting" | "connected" | "closed";

export interface PublisherStats {
  readonly timestampMs: number;
  readonly state: PublisherState;
  /** Payload bits sent over the last second. */
  readonly bitrateBps: number;
  readonly framerate: number;
  readonly mapVersion: number | null;
  readonly rateTarget: { readonly maxBitrateBps: number; readonly maxFramerate: number } | null;
  /** Vision on demand: the server has the video at its keep-alive frame rate (no question open). */
  readonly visionIdle: boolean;
  /**
   * The cap for everything sent: min(configured, rate target, REMB). With FEC the encoder runs
   * at `fec.mediaBitrateBps` of it and the parity takes the rest.
   */
  readonly bitrateCapBps: number;
  readonly rembBps: number | null;
  readonly packetsSent: number;
  /** Whether the server negotiated generic NACK (null before negotiation). */
  readonly retransmissionsNegotiated: boolean | null;
  /** Every frame a keyframe, because the link loses packets nobody repairs. */
  readonly intraOnly: boolean;
  /** Smoothed fraction lost from the server's receiver reports (null before the first). */
  readonly reportedLossRate: number | null;
  /** Generic NACK packets received, the sequence numbers they listed, and packets resent for them. */
  readonly nacksReceived: number;
  readonly packetsNacked: number;
  readonly packetsRetransmitted: number;
  readonly keyframeRequests: number;
  /**
   * The congestion window on the server's transport feedback (null until negotiated, or when the
   * server offered no transport-cc): bytes in flight, the window at the cap, the round trip the
   * feedback shows. Frames it held back are in `encoder.framesDroppedCongestion`.
   */
  readonly congestionWindow: { readonly inFlightBytes: number; readonly windowBytes: number; readonly feedbackRttMs: number | null } | null;
  readonly fec: PublisherFecStats;
  readonly encoder: Readonly<LiveEncoderCounters>;
}

export interface PublisherFecStats {
  /** Offered in the offer, and taken by the server's answer (null before negotiation). */
  readonly offered: boolean;
  readonly negotiated: boolean | null;
  /** Frames that got at least one parity packet, parity packets and their payload bytes. */
  readonly framesProtected: number;
  readonly parityPacketsSent: number;
  readonly parityBytesSent: number;
  /** The budget in force (fec-budget.ts): the encoder's bitrate and the typical frame's k and m. */
  readonly mediaBitrateBps: number | null;
  readonly typicalFrame: { readonly k: number; readonly m: number } | null;
}

export interface PublisherEvents {
  [name: string]: unknown;
  state: PublisherState;
  "region-map": RegionMapDecision | { readonly expired: number };
  rate: { readonly bitrateCapBps: number; readonly maxFramerate: number | null; readonly source: "server" | "remb" };
  "keyframe-request": { readonly source: "pli"; readonly restart: boolean };
  /** Every frame a keyframe or not, from the receiver reports' loss. */
  "loss-resilience": { readonly intraOnly: boolean; readonly lossRate: number };
  /** The FEC budget changed the encoder's bitrate. */
  "fec-budget": FecBudget;
  frame: EncodedFrame;
  /** The video file ended (no loop). */
  "video-ended": undefined;
  /** A question went out (its id names it in the answer, the agent's states and the answer frame). */
  question: { readonly id: string; readonly text: string };
  /** What the AI peer is doing (data channel `agent-state`, in order of `seq`). */
  "agent-state": AgentStateMessage;
  /** The frame an answer used (signalling `answer-frame`, the reply to `answerFrame()`). */
  "answer-frame": AnswerFrameMessage;
  error: { readonly error: PublisherError; readonly fatal: boolean };
}

export class HeadlessPublisher {
  readonly events = new TypedEvents<PublisherEvents>();
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly encoder: LiveEncoder;
  private readonly tracker: RegionMapTracker;
  private readonly cap: BitrateCap;
  private readonly meter = new RateMeter(1000);
  private readonly answers = new AnswerStreams();
  private signaling: SignalingClient | null = null;
  private peer: PublisherPeer | null = null;
  private packetizer: RtpPacketizer | null = null;
  private rateTarget: RateTargetMessage | null = null;
  /** The server said no question is open (vision on demand): frames go at its keep-alive rate. */
  private visionIdle = false;
  private readonly pacer: Pacer;
  /** The answer's id for abs-send-time (null: not negotiated). */
  private absSendTimeId: number | null = null;
  private packetsSent = 0;
  /**
   * Bytes in flight from the server's transport feedback: while they fill the window, captured
   * frames are not encoded (live-encoder.ts `admitFrame`). Used only when transport-cc was
   * negotiated; `transportSeq` is werift's 16-bit counter as last seen, unwrapped in `sentSeq`.
   */
  private readonly window = new CongestionWindow();
  private transportCc = false;
  private transportSeq: number | null = null;
  private sentSeq = -1;
  private resilience: LossResilience | null = null;
  /** Set when the server took the parity stream. */
  private fecWriter: FrameFecSender | null = null;
  private fecRtpSender: RTCRtpSender | null = null;
  private readonly fecBudget = new FecRateBudget();
  private fecNegotiated: boolean | null = null;
  private framesProtected = 0;
  private parityPackets = 0;
  private parityBytes = 0;
  private nacks = 0;
  private nackedSeqs = 0;
  private plis = 0;
  private firstCaptureMs: number | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private metricsTimer: NodeJS.Timeout | null = null;
  private current: PublisherState = "idle";
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: HeadlessPublisherOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    this.encoder = new LiveEncoder({ ...opts.encoder, admitFrame: () => !this.transportCc || this.window.admits(this.cap.capBps, undefined, performance.now()) });
    this.tracker = new RegionMapTracker(opts.encoder.width, opts.encoder.height);
    this.cap = new BitrateCap(opts.encoder.bitrateBps);
    this.pacer = new Pacer(this.cap.capBps, { now: () => performance.now(), schedule: (fn, ms) => setTimeout(fn, ms).unref() });
  }

  get state(): PublisherState {
    return this.current;
  }

  /** Joins, negotiates, then starts sending. Rejects (and closes) when any step fails. */
  async start(): Promise<void> {
    if (this.current !== "idle") throw new PublisherError("INVALID_OPTION", "HeadlessPublisher.start() was already called");
    this.setState("connecting");
    const { connectTimeoutMs = 15_000 } = this.opts;
    const codec = this.opts.encoder.codec ?? "h264";
    const fec = this.opts.fec ?? true;
    try {
      try {
        await this.join(codec, fec, connectTimeoutMs);
      } catch (err) {
        // A server that predates FEC (its werift knows no codec for the parity m-section) fails
        // the whole offer, and its peer connection for us is spoiled (werift applied part of the
        // offer): leave, join again and offer the video alone. A server that knows FEC but does
        // not want it answers the m-section inactive instead, and negotiation succeeds.
        if (!(fec && err instanceof PublisherError && err.code === "OFFER_REFUSED")) throw err;
        this.log.warn("publisher.offer_refused_rejoin_without_fec", { message: err.message });
        await this.peer?.pc.close().catch(() => {});
        await this.signaling?.close();
        this.peer = null;
        this.signaling = null;
        await this.join(codec, false, connectTimeoutMs);
      }
      this.wirePeer(this.peer!, codec);
      await this.encoder.start();
    } catch (err) {
      await this.close();
      throw err;
    }
    this.setState("connected");
    const every = this.opts.metricsIntervalMs ?? 1000;
    if (every > 0) {
      this.metricsTimer = setInterval(() => this.sendMetrics(), every);
      this.metricsTimer.unref();
    }
  }

  /** Joins through signalling and negotiates a peer connection that offers FEC or not. */
  private async join(codec: "h264" | "vp8", fec: boolean, connectTimeoutMs: number): Promise<void> {
    const { client, joined } = await SignalingClient.connect(this.opts.serverUrl, this.opts.token, connectTimeoutMs);
    this.signaling = client;
    this.log.info("publisher.joined", { room: joined.room, identity: joined.identity, peerId: joined.peerId });
    // The server streams answers both as answer-chunks on the data channel and as room chat;
    // take them from the channel the question went out on, or every chunk would count twice.
    if (this.opts.questionsVia === "signaling") {
      client.events.on("message", (m) => m.type === "chat" && this.answers.push(m.id, m.text, m.final));
    }
    client.events.on("message", (m) => m.type === "answer-frame" && this.events.emit("answer-frame", m));
    client.events.on("closed", ({ code }) => this.current === "connected" && this.fail(new PublisherError("SIGNALING_FAILED", `the signalling socket closed (code ${code}); media goes on`), false));
    this.peer = createPublisherPeer(codec, joined.iceServers, this.opts.iceAdditionalHostAddresses, { fec });
    await negotiate(this.peer, client, connectTimeoutMs);
  }

  /**
   * The frame the answer to `questionId` used, as the server keeps it for its last answers: a small
   * JPEG with where the answer was read, its capture time and age, resolution and bitrate.
   * Rejects with NOT_FOUND when the server no longer has it, TIMEOUT after `timeoutMs`.
   */
  answerFrame(questionId: string, timeoutMs = 5000): Promise<AnswerFrameMessage> {
    const client = this.signaling;
    if (this.current !== "connected" || !client) return Promise.reject(new PublisherError("NOT_CONNECTED", `cannot ask for an answer frame while ${this.current}`));
    return new Promise<AnswerFrameMessage>((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        off();
        fn();
      };
      const off = client.events.on("message", (m) => {
        if (m.type === "answer-frame" && m.questionId === questionId) done(() => resolve(m));
        else if (m.type === "error" && m.code === "NOT_FOUND" && m.requestId === questionId) done(() => reject(new PublisherError("NOT_FOUND", m.message)));
      });
      const timer = setTimeout(() => done(() => reject(new PublisherError("TIMEOUT", `no answer frame for ${questionId} within ${timeoutMs} ms`))), timeoutMs);
      if (!client.send({ type: "answer-frame-request", questionId })) done(() => reject(new PublisherError("NOT_CONNECTED", "the signalling socket is closed")));
    });
  }

  /**
   * Asks a question about the video; yields the answer's chunks as they stream in. Abort `signal`
   * to stop waiting.
   */
  ask(text: string, signal?: AbortSignal): AsyncIterableIterator<string> {
    if (this.current !== "connected") throw new PublisherError("NOT_CONNECTED", `cannot ask while ${this.current}; await start() first`);
    const id = randomUUID();
    const stream = this.answers.open(id, signal);
    const sent = this.opts.questionsVia === "signaling" ? this.signaling!.send({ type: "chat", text, id }) : this.sendControl({ type: "question", id, text });
    if (!sent) this.answers.fail(id, new PublisherError("NOT_CONNECTED", "the question could not be sent: the channel is closed"));
    else this.events.emit("question", { id, text });
    return stream;
  }

  /**
   * The werift sender of the video (null before negotiation): for diagnostics, and for link
   * emulation in tests (wrapping its transport's `sendRtp` drops packets after werift cached them
   * for retransmission, as a lossy link would).
   */
  get videoSender(): RTCRtpSender | null {
    return this.peer?.transceiver.sender ?? null;
  }

  /**
   * The werift sender of the FEC parity stream (null before negotiation, and when the server did
   * not take it): for diagnostics and tests, like `videoSender`.
   */
  get fecSender(): RTCRtpSender | null {
    return this.fecRtpSender;
  }

  /** ffmpeg processes still running (for leak checks). */
  get childPids(): number[] {
    return this.encoder.childPids;
  }

  stats(): PublisherStats {
    const t = performance.now();
    const s = this.encoder.currentRate;
    return {
      timestampMs: this.now(),
      state: this.current,
      bitrateBps: this.meter.bitrateBps(t),
      framerate: this.meter.framerate(t),
      mapVersion: this.tracker.current?.version ?? null,
      rateTarget: this.rateTarget ? { maxBitrateBps: this.rateTarget.maxBitrateBps, maxFramerate: this.rateTarget.maxFramerate } : null,
      visionIdle: this.visionIdle,
      bitrateCapBps: this.cap.capBps,
      rembBps: this.cap.remb,
      packetsSent: this.packetsSent,
      retransmissionsNegotiated: this.resilience?.retransmissions ?? null,
      intraOnly: this.encoder.intraOnly,
      reportedLossRate: this.resilience?.lossRate ?? null,
      nacksReceived: this.nacks,
      packetsNacked: this.nackedSeqs,
      // werift counts what it resent in a private field; read, never written.
      packetsRetransmitted: (this.videoSender as unknown as { retransmittedPacketsSent?: number } | null)?.retransmittedPacketsSent ?? 0,
      keyframeRequests: this.plis,
      congestionWindow: this.transportCc
        ? { inFlightBytes: this.window.inFlightBytes, windowBytes: Math.round(this.window.windowBytes(this.cap.capBps)), feedbackRttMs: this.window.feedbackRttMs }
        : null,
      fec: {
        offered: this.peer ? this.peer.fecTransceiver !== null : (this.opts.fec ?? true),
        negotiated: this.fecNegotiated,
        framesProtected: this.framesProtected,
        parityPacketsSent: this.parityPackets,
        parityBytesSent: this.parityBytes,
        mediaBitrateBps: this.fecWriter ? (s.maxBitrateBps ?? this.cap.capBps) : null,
        typicalFrame: this.fecWriter && this.fecBudget.current ? { k: this.fecBudget.current.k, m: this.fecBudget.current.m } : null,
      },
      encoder: { ...this.encoder.counters },
    };
  }

  /** Stops sending, closes the peer connection and leaves. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.setState("closed");
    for (const t of [this.expiryTimer, this.metricsTimer]) if (t) clearTimeout(t);
    this.answers.fail(null, new PublisherError("CLOSED", "the publisher closed"));
    await this.encoder.close();
    await this.peer?.pc.close().catch(() => {});
    await this.signaling?.close();
  }

  private wirePeer(peer: PublisherPeer, codec: "h264" | "vp8"): void {
    const sender = peer.transceiver.sender;
    const payloadType = sender.codec?.payloadType;
    if (payloadType === undefined) throw new PublisherError("NEGOTIATION_FAILED", `the server accepted no ${codec} codec`);
    this.packetizer = new RtpPacketizer({
      codec, ssrc: sender.ssrc, payloadType,
      initialSequenceNumber: randomInt(0x10000), initialTimestamp: randomInt(0x1_0000_0000 - 1),
      ...(codec === "vp8" ? { initialPictureId: randomInt(0x8000) } : {}),
    });
    // The answer's feedback for our codec: generic NACK is `nack` without a parameter (RFC 4585 §4.2).
    const retransmissions = (sender.codec?.rtcpFeedback ?? []).some((f) => f.type === "nack" && !f.parameter);
    const fec = (this.fecNegotiated = fecNegotiated(peer));
    this.absSendTimeId = absSendTimeId(peer.pc.remoteDescription?.sdp ?? "");
    this.transportCc = (this.opts.congestionWindow ?? true) && (sender.codec?.rtcpFeedback ?? []).some((f) => f.type === "transport-cc") && (peer.pc.remoteDescription?.sdp ?? "").includes(TRANSPORT_CC_URI);
    if (fec) {
      const fecRtp = peer.fecTransceiver!.sender;
      // werift's sendRtp stamps the transceiver's SSRC and payload type on what it sends; the
      // parity writer puts the same ones in, so what it returns is what goes on the wire.
      this.fecRtpSender = fecRtp;
      this.fecWriter = new FrameFecSender({ ssrc: fecRtp.ssrc, payloadType: fecRtp.codec!.payloadType, initialSequenceNumber: randomInt(0x10000) });
    }
    const resilience = (this.resilience = new LossResilience(retransmissions, this.opts.lossResilience, fec));
    this.log.info("publisher.negotiated", { codec, retransmissions, fecOffered: peer.fecTransceiver !== null, fec });
    sender.onPictureLossIndication.subscribe(() => {
      this.plis++;
      const restart = resilience.keyframeRequestNeedsRestart();
      this.events.emit("keyframe-request", { source: "pli", restart });
      if (restart) this.encoder.requestKeyframe();
    });
    sender.onGenericNack.subscribe((n) => {
      this.nacks++;
      this.nackedSeqs += n.lost.length;
    });
    sender.onRtcp.subscribe((p: RtcpPacket) => {
      if (p instanceof RtcpPayloadSpecificFeedback && p.feedback instanceof ReceiverEstimatedMaxBitrate) this.onRemb(Number(p.feedback.bitrate));
      if (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof TransportWideCC) this.onTransportFeedback(p.feedback);
      if (p instanceof RtcpRrPacket) {
        const report = p.reports.find((r) => r.ssrc === sender.ssrc);
        if (report) this.onReceiverReport(resilience, report.fractionLost / 256);
      }
    });
    peer.control.onMessage.subscribe((data) => this.onControl(data));
    peer.pc.connectionStateChange.subscribe((s) => {
      if ((s === "failed" || s === "closed") && this.current === "connected") this.fail(new PublisherError("NEGOTIATION_FAILED", `the peer connection is ${s}`, { retryable: true }), true);
    });
    this.encoder.events.on("frame", (f) => this.sendFrame(f));
    this.encoder.events.on("error", ({ error, fatal }) => this.fail(error, fatal));
    this.encoder.events.on("end", () => this.events.emit("video-ended", undefined));
  }

  private sendFrame(frame: EncodedFrame): void {
    const sender = this.peer?.transceiver.sender;
    if (!sender || !this.packetizer || this.current === "closed") return;
    this.firstCaptureMs ??= frame.captureMs;
    const packets = this.packetizer.packetizeFrame(frame.data, { timestampMs: frame.captureMs - this.firstCaptureMs }, { keyframe: frame.keyframe });
    // The send time for the server's delay-based estimate. werift would write abs-send-time itself,
    // but its NTP clock puts the decimal digits of the seconds into the binary fraction (werift
    // utils ntpTime), so its values step once a second; ours, under the same id, replace them.
    // Paced at 2.5x the cap (pacer.ts); the send time is stamped as each packet leaves.
    const send = (s: RTCRtpSender, p: RtpPacket) => () => {
      if (this.current === "closed") return;
      const extension = this.sendTimeExtension();
      const bytes = Buffer.from(serializeRtp(extension ? { ...p, extension } : p));
      void s.sendRtp(bytes).catch(() => {});
      this.onTransportSent(s, bytes.length);
    };
    this.pacer.enqueue(packets.map((p) => ({ bytes: rtpPacketSize(p), send: send(sender, p) })));
    this.packetsSent += packets.length;
    if (this.fecWriter && this.fecRtpSender) {
      // Right after the frame's media: a frame that loses nothing is complete as early as without FEC.
      let parity: ReturnType<FrameFecSender["protect"]> = [];
      try {
        parity = this.fecWriter.protect(packets, parityForFrame(packets.length, this.resilience?.lossRate ?? null));
      } catch (err) {
        // The packetizer makes one frame's packets consecutive with one timestamp, which is all
        // protect() needs; should that ever break, the frame goes out unprotected.
        this.log.warn("publisher.fec_protect_failed", { packets: packets.length, message: err instanceof Error ? err.message : String(err) });
      }
      const fecSender = this.fecRtpSender;
      this.pacer.enqueue(parity.map((p) => ({ bytes: rtpPacketSize(p), send: send(fecSender, p) })));
      for (const p of parity) this.parityBytes += p.payload.length;
      this.parityPackets += parity.length;
      if (parity.length > 0) this.framesProtected++;
    }
    this.meter.add(frame.data.length, performance.now());
    this.events.emit("frame", frame);
  }

  /**
   * werift numbered the packet it just sent (transport-wide sequence number, written in sendRtp's
   * synchronous part); a number that did not move means it sent nothing.
   */
  private onTransportSent(s: RTCRtpSender, bytes: number): void {
    if (!this.transportCc) return;
    const seq16 = s.dtlsTransport.transportSequenceNumber & 0xffff;
    if (seq16 === this.transportSeq) return;
    const step = this.transportSeq === null ? 1 : (seq16 - this.transportSeq + 0x10000) & 0xffff;
    this.transportSeq = seq16;
    this.sentSeq += step;
    this.window.onSent(this.sentSeq, bytes, performance.now());
  }

  /** Everything up to the last sequence number a feedback reports has arrived or is lost. */
  private onTransportFeedback(f: TransportWideCC): void {
    if (!this.transportCc || this.transportSeq === null || f.packetStatusCount === 0) return;
    const last16 = (f.baseSequenceNumber + f.packetStatusCount - 1) & 0xffff;
    // How far behind the newest sent number it is (feedback is never ahead of what was sent).
    const behind = (this.transportSeq - last16 + 0x10000) & 0xffff;
    if (behind > 0x8000) return;
    this.window.onFeedback(this.sentSeq - behind, performance.now());
  }

  /** A one-byte header extension (RFC 8285 §4.2) with abs-send-time now, or null when not negotiated. */
  private sendTimeExtension(): { profile: number; data: Uint8Array } | null {
    const id = this.absSendTimeId;
    if (id === null) return null;
    const t = absSendTimeBytes(performance.now());
    return { profile: 0xbede, data: Uint8Array.of((id << 4) | 2, t[0]!, t[1]!, t[2]!) };
  }

  private onControl(data: string | Buffer): void {
    const raw = typeof data === "string" ? data : new Uint8Array(data);
    const parsed = parseDataChannelMessage(raw);
    if (!parsed.ok) {
      const { code, field, message } = parsed.error;
      this.log.warn("publisher.bad_control_message", { code, field, message });
      // A region map the schema refused still gets its ack, so the server learns why.
      const version = regionMapVersion(raw);
      if (version !== null) this.sendControl({ type: "region-map-ack", version, applied: false, reason: `invalid: ${message}`.slice(0, 200) });
      return;
    }
    const msg = parsed.msg;
    if (msg.type === "region-map") this.onRegionMap(msg);
    else if (msg.type === "rate-target") this.onRateTarget(msg);
    else if (msg.type === "vision") {
      // Vision on demand: a keep-alive frame rate between questions, the full one on a question.
      this.visionIdle = msg.idle;
      this.encoder.setIdleFramerate(msg.idle ? msg.idleFramerate : null);
      this.log.info("publisher.vision", { idle: msg.idle, idleFramerate: msg.idleFramerate });
    } else if (msg.type === "answer-chunk") this.answers.push(msg.id, msg.text, msg.final);
    else if (msg.type === "agent-state") this.events.emit("agent-state", msg);
  }

  private onRegionMap(msg: RegionMapMessage): void {
    const d = this.tracker.offer(msg, this.now());
    this.sendControl(d.applied ? { type: "region-map-ack", version: d.version, applied: true } : { type: "region-map-ack", version: d.version, applied: false, reason: d.reason });
    this.log.info("publisher.region_map", d.applied ? { version: d.version, applied: true } : { version: d.version, applied: false, reason: d.reason, message: d.message });
    this.events.emit("region-map", d);
    if (!d.applied) return;
    this.encoder.setRegionMap(d.map);
    this.armExpiry();
  }

  /** Drops the map at its validUntilMs (timers may fire early: then wait the rest). */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const active = this.tracker.current;
    if (!active) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (this.current === "closed") return;
      if (this.tracker.expire(this.now())) {
        this.encoder.setRegionMap(null);
        this.events.emit("region-map", { expired: active.version });
      } else this.armExpiry();
    }, Math.max(1, Math.min(2 ** 31 - 1, active.validUntilMs - this.now())));
    this.expiryTimer.unref();
  }

  private onRateTarget(msg: RateTargetMessage): void {
    this.rateTarget = msg;
    this.cap.setServerCap(msg.maxBitrateBps);
    this.pacer.setCapBps(this.cap.capBps);
    this.encoder.setRate({ maxBitrateBps: this.encoderBitrate(msg.maxFramerate), maxFramerate: msg.maxFramerate });
    this.events.emit("rate", { bitrateCapBps: this.cap.capBps, maxFramerate: msg.maxFramerate, source: "server" });
  }

  /**
   * The encoder's bitrate for the cap in force: all of it, or with FEC the media share
   * (fec-budget.ts) at the frame rate it will run at and the smoothed loss.
   */
  private encoderBitrate(maxFramerate: number | null = this.encoder.currentRate.maxFramerate): number {
    if (!this.fecWriter) return this.cap.capBps;
    const fps = Math.min(this.opts.encoder.fps ?? 30, maxFramerate ?? Infinity);
    return this.fecBudget.update(this.cap.capBps, fps, this.resilience?.lossRate ?? null).budget.mediaBps;
  }

  private onReceiverReport(resilience: LossResilience, fractionLost: number): void {
    const changed = resilience.onReceiverReport(Math.min(1, Math.max(0, fractionLost)), performance.now());
    if (this.fecWriter) {
      // A new loss moves the budget only when it changes the typical frame's parity (fec-budget.ts);
      // then the encoder restarts at the new bitrate, within its restart rate limit.
      const fps = Math.min(this.opts.encoder.fps ?? 30, this.encoder.currentRate.maxFramerate ?? Infinity);
      const { budget, changed: moved } = this.fecBudget.update(this.cap.capBps, fps, resilience.lossRate);
      if (moved) {
        this.log.info("publisher.fec_budget", { lossRate: Number(budget.lossRate.toFixed(4)), capBps: budget.capBps, mediaBps: budget.mediaBps, k: budget.k, m: budget.m });
        this.encoder.setRate({ maxBitrateBps: budget.mediaBps });
        this.events.emit("fec-budget", budget);
      }
    }
    if (!changed) return;
    const lossRate = resilience.lossRate ?? fractionLost;
    this.log.info("publisher.loss_resilience", { intraOnly: resilience.intraOnly, lossRate: Number(lossRate.toFixed(4)) });
    this.encoder.setIntraOnly(resilience.intraOnly);
    this.events.emit("loss-resilience", { intraOnly: resilience.intraOnly, lossRate });
    // Tell the server at once: its frame-rate target budgets intra frames differently.
    this.sendMetrics();
  }

  private onRemb(bps: number): void {
    if (!this.cap.setRemb(bps)) return;
    this.pacer.setCapBps(this.cap.capBps);
    this.encoder.setRate({ maxBitrateBps: this.encoderBitrate() });
    this.events.emit("rate", { bitrateCapBps: this.cap.capBps, maxFramerate: this.encoder.currentRate.maxFramerate, source: "remb" });
  }

  private sendControl(msg: FromPublisherMessage): boolean {
    const dc = this.peer?.control;
    if (!dc || dc.readyState !== "open") return false;
    dc.send(JSON.stringify(msg));
    return true;
  }

  private sendMetrics(): void {
    const s = this.stats();
    const { width, height } = this.opts.encoder;
    this.sendControl({ type: "metrics", timestampMs: s.timestampMs, bitrateBps: s.bitrateBps, framerate: s.framerate, frameWidth: width, frameHeight: height, intraOnly: s.intraOnly });
  }

  private fail(error: PublisherError, fatal: boolean): void {
    this.log.error("publisher.error", { code: error.code, message: error.message, fatal });
    this.events.emit("error", { error, fatal });
    if (fatal) void this.close();
  }

  private setState(s: PublisherState): void {
    if (this.current === s) return;
    this.current = s;
    this.events.emit("state", s);
  }
}
