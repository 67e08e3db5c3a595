/**
 * The AI peer's receive path for one video track: RTP packets in, decoded frames with their capture
 * time out into a `FrameStore` that the sampler reads.
 *
 *   onRtp(bytes) ─► parse + SSRC/PT check ─┬► JitterBuffer ─► StreamDecoder (ffmpeg) ─► FrameStore
 *                      │ garbage: counted,    │    ▲  │ NACK / keyframe requests ─► onNack / onKeyframeNeeded
 *                      │ logged, dropped      ▼    │  │ frames after a loss: not fed until a keyframe
 *   onParity(bytes) ─────────────────► FrameFecReceiver  └► FrameDelay: capture until available (or until the next good frame)
 *                        (option `fec`)  rebuilt media packets
 *
 * Per-frame FEC (`fec`, encoder/rtp/frame-fec.ts): the sender follows each frame's media packets
 * with Reed-Solomon parity packets on their own SSRC; every media packet also goes to the
 * FrameFecReceiver, every parity packet (`onParity`) only to it, and the media packets it rebuilds
 * go into the jitter buffer as if they had arrived then. The jitter buffer cannot tell them from a
 * late (reordered or retransmitted) packet: a gap they fill counts in `packetsRecovered` and the
 * frame in `framesRecovered`, next to the FEC's own counters (`stats().fec`). Use it with a policy
 * whose reorder window lets the parity arrive (`resilientPolicy({ fec: true })`). A malformed
 * parity packet is counted (`fec.malformed`), logged (the first 10, then every 100th) and dropped.
 *
 * The policy (receive-policy.ts) decides NACKs, deadlines and keyframe requests: "resilient" (no
 * retransmission, the previous good frame stands in) or "classic" (NACK, wait, PLI). The stats
 * say what each costs: frames that waited for a retransmission (`framesRecovered`), frames dropped
 * at their deadline, samples served by the previous good frame, and the frame delay percentiles.
 *
 * With werift: `track.onReceiveRtp.subscribe((rtp) => path.onRtp(rtp.serialize()))`, pass
 * `ssrc: track.ssrc`, and take `onKeyframeNeeded` / `onNack` from `weriftRtcpCallbacks(receiver)`
 * (PLI via `receiver.sendRtcpPLI`, generic NACK, RFC 4585 §6.2.1 / §6.3.1).
 * Capture time (`timestampMs`): RTP media time since the stream's first frame, in ms; mapping it to
 * wall-clock time needs the sender reports (RFC 3550 §6.4.1) and is left to the caller.
 *
 * Thin shell: the decisions are the jitter buffer's and the policy's; this file wires them to the
 * decoder, a deadline timer and the callbacks. Nothing here throws at a packet.
 */
import { FrameFecReceiver, type FrameFecCounters } from "../../encoder/rtp/frame-fec.ts";
import { parseRtp, type RtpPacket, type RtpVideoCodec } from "../../encoder/rtp/index.ts";
import { type DecodedFrame, StreamDecoder } from "./decoder.ts";
import { MediaError, type MediaErrorCode, type MediaLog, safeCall, silentLog } from "./errors.ts";
import { FrameDelay, type FrameDelayStats } from "./frame-delay.ts";
import { FrameStore } from "./frame-store.ts";
import { JitterBuffer, type JitterOutput, type LostFrame } from "./jitter-buffer.ts";
import { classicPolicy, type ReceivePolicy } from "./receive-policy.ts";
import { percentile, RecentValues, RtpTimeline, SlidingWindow } from "./stats-window.ts";

export interface ReceivePathOptions {
  readonly codec: RtpVideoCodec;
  readonly ffmpeg: string;
  /** Size of the decoded frames in the store (ffmpeg scales). */
  readonly width: number;
  readonly height: number;
  /** The stream's SSRC. Default: the first packet that parses sets it. Packets of others count as malformed. */
  readonly ssrc?: number;
  /** Accepted RTP payload types. Default: any. */
  readonly payloadTypes?: readonly number[];
  /** Jitter-buffer deadline, default 100 ms. */
  readonly maxWaitMs?: number;
  /** Default: classic (NACK once, keyframe requests at most every 500 ms). */
  readonly policy?: ReceivePolicy;
  /** Frame delay percentiles over this many recent frames. Default 300. */
  readonly frameDelayWindow?: number;
  /** Milliseconds. Arrival times given to `onRtp` must come from this clock. Default `performance.now()`. */
  readonly clock?: () => number;
  readonly log?: MediaLog;
  /** Fields added to every log record (room, peer). */
  readonly logContext?: Readonly<Record<string, unknown>>;
  /** Default: a new store, readable as `path.store`. */
  readonly store?: FrameStore;
  readonly onKeyframeNeeded?: (ssrc: number) => void;
  readonly onNack?: (ssrc: number, sequenceNumbers: number[]) => void;
  readonly onFrame?: (frame: DecodedFrame) => void;
  readonly onLoss?: (lost: LostFrame) => void;
  /** Start ffmpeg now rather than at the first keyframe (default true: ~60 ms off the first frame). */
  readonly prewarmDecoder?: boolean;
  /** Decoder restarts allowed (default 5). */
  readonly maxDecoderRestarts?: number;
  /** The sender protects each frame with per-frame FEC: parity packets come through `onParity`. Default false. */
  readonly fec?: boolean;
}

export interface ReceiveStats {
  /** The stream's SSRC: the `ssrc` option, else the first packet's; undefined before any packet. */
  readonly ssrc: number | undefined;
  /** The receive policy's name ("resilient", "classic"). */
  readonly policy: string;
  /** RTP bytes (headers included) received in the last second, in bits per second. */
  readonly bitrateBps: number;
  /** Frames decoded in the last second. */
  readonly frameRate: number;
  /** Every buffer given to `onRtp`, malformed ones included. */
  readonly packetsReceived: number;
  readonly packetsMalformed: number;
  readonly packetsDuplicate: number;
  readonly packetsLate: number;
  readonly framesComplete: number;
  readonly framesDecoded: number;
  readonly framesLost: number;
  readonly framesLate: number;
  /** Complete frames not fed to the decoder because a frame before them was lost (no keyframe since). */
  readonly framesSkipped: number;
  readonly framesSubstituted: number;
  readonly keyframeRequests: number;
  readonly packetsNacked: number;
  /** Packets the sequence numbers say were sent, and those seen missing (before any retransmission). */
  readonly packetsExpected: number;
  readonly packetsMissed: number;
  /**
   * Missed packets that still arrived in time (retransmitted, reordered, or rebuilt by the FEC;
   * with FEC, `packetsMissed` and this also count packets rebuilt before their loss showed).
   */
  readonly packetsRecovered: number;
  /** Frames completed by such a packet: frames that waited for a retransmission. */
  readonly framesRecovered: number;
  /** Frames given up at their deadline (incomplete or all packets missing). */
  readonly framesDroppedAtDeadline: number;
  readonly decoderRestarts: number;
  readonly framesDroppedByDecoder: number;
  /** Last packet arrival to decoded frame, over the last 100 frames. */
  readonly receiveLatencyMs: { readonly p50: number | undefined; readonly p95: number | undefined; readonly samples: number };
  /**
   * Capture until the frame (or, for a frame never decoded, the next good one) is available,
   * above the fastest frame (frame-delay.ts).
   */
  readonly frameDelayMs: FrameDelayStats;
  /**
   * Per-frame FEC (null without the `fec` option): parity packets received, media packets rebuilt,
   * frames they completed, parity groups dropped still short of packets, malformed parity packets
   * (frame-fec.ts `FrameFecCounters`; `malformed` also counts parity packets that were not RTP).
   */
  readonly fec: FrameFecCounters | null;
}

const MALFORMED_LOG_FIRST = 10;
const MALFORMED_LOG_EVERY = 100;

export class ReceivePath {
  readonly store: FrameStore;
  private readonly jb: JitterBuffer;
  private readonly decoder: StreamDecoder;
  private readonly clock: () => number;
  private readonly log: MediaLog;
  private readonly timeline = new RtpTimeline();
  private readonly bytes = new SlidingWindow(1000);
  private readonly decoded = new SlidingWindow(1000);
  private readonly latencies = new RecentValues(100);
  private readonly delay: FrameDelay;
  private readonly policy: ReceivePolicy;
  private ssrc: number | undefined;
  private malformed = 0;
  private readonly fec: FrameFecReceiver | null;
  /** Parity packets that were not RTP at all (FrameFecReceiver counts the rest). */
  private parityNotRtp = 0;
  /** Packets the FEC rebuilt before the jitter buffer could see them missing (see pushRebuilt). */
  private rebuiltUnseen = 0;
  private skipped = 0;
  private handling = false;
  private keyframeAskedWhileHandling = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAtMs: number | undefined;
  private closed = false;

  constructor(private readonly opts: ReceivePathOptions) {
    this.clock = opts.clock ?? (() => performance.now());
    const base = opts.log ?? silentLog;
    const ctx = opts.logContext;
    this.log = ctx ? (r) => base({ ...ctx, ssrc: this.ssrc, ...r }) : (r) => base({ ssrc: this.ssrc, ...r });
    this.ssrc = opts.ssrc;
    this.store = opts.store ?? new FrameStore();
    this.delay = new FrameDelay(opts.frameDelayWindow ?? 300);
    this.policy = opts.policy ?? classicPolicy();
    this.fec = opts.fec ? new FrameFecReceiver() : null;
    this.jb = new JitterBuffer({
      codec: opts.codec,
      ...(opts.maxWaitMs !== undefined ? { maxWaitMs: opts.maxWaitMs } : {}),
      policy: this.policy,
    });
    this.decoder = new StreamDecoder({
      ffmpeg: opts.ffmpeg,
      codec: opts.codec,
      width: opts.width,
      height: opts.height,
      clock: this.clock,
      log: this.log,
      ...(opts.maxDecoderRestarts !== undefined ? { maxRestarts: opts.maxDecoderRestarts } : {}),
      onFrame: (f) => this.onDecoded(f),
      onKeyframeNeeded: () => this.onDecoderNeedsKeyframe(),
    });
    if (opts.prewarmDecoder ?? true) this.decoder.start();
  }

  /** Process id of the decoder's ffmpeg (diagnostics, tests). */
  get decoderPid(): number | undefined {
    return this.decoder.pid;
  }

  /** One RTP packet as received. Garbage is counted as malformed and logged, never thrown. */
  onRtp(buf: Uint8Array, arrivalMs: number = this.clock()): void {
    if (this.closed) return;
    let packet: RtpPacket;
    try {
      packet = parseRtp(buf);
    } catch (err) {
      this.onMalformed("RTP_MALFORMED", err instanceof Error ? err.message : String(err), buf.length, arrivalMs, err);
      return;
    }
    if (this.opts.payloadTypes && !this.opts.payloadTypes.includes(packet.payloadType)) {
      this.onMalformed("UNEXPECTED_PAYLOAD_TYPE", `payload type ${packet.payloadType} is not one of ${this.opts.payloadTypes.join(",")}`, buf.length, arrivalMs);
      return;
    }
    // Without the `ssrc` option the first packet that parses picks the stream; give the option
    // (werift: `track.ssrc`) when garbage may arrive before the first real packet.
    if (this.ssrc === undefined) this.ssrc = packet.ssrc;
    if (packet.ssrc !== this.ssrc) {
      this.onMalformed("UNEXPECTED_SSRC", `packet of SSRC ${packet.ssrc} on the path of SSRC ${this.ssrc}`, buf.length, arrivalMs);
      return;
    }
    this.bytes.add(arrivalMs, buf.length);
    this.handle(this.jb.push(packet, arrivalMs));
    if (this.fec) this.pushRebuilt(this.fec.media(packet), arrivalMs);
  }

  /**
   * One packet of the FEC parity stream (with the `fec` option; ignored without). A malformed one
   * is counted, logged (rate-limited) and dropped, never thrown.
   */
  onParity(buf: Uint8Array, arrivalMs: number = this.clock()): void {
    if (this.closed || !this.fec) return;
    let packet: RtpPacket;
    try {
      packet = parseRtp(buf);
    } catch (err) {
      this.parityNotRtp++;
      this.onFecMalformed(err, buf.length, arrivalMs);
      return;
    }
    let rebuilt: RtpPacket[];
    try {
      rebuilt = this.fec.parity(packet); // counts a malformed one itself
    } catch (err) {
      this.onFecMalformed(err, buf.length, arrivalMs);
      return;
    }
    this.pushRebuilt(rebuilt, arrivalMs);
  }

  private fecMalformed(): number {
    return (this.fec?.counters.malformed ?? 0) + this.parityNotRtp;
  }

  private onFecMalformed(err: unknown, bytes: number, arrivalMs: number): void {
    const n = this.fecMalformed();
    if (n <= MALFORMED_LOG_FIRST || n % MALFORMED_LOG_EVERY === 0) {
      const reason = err instanceof Error ? err.message : String(err);
      const error = new MediaError("RTP_MALFORMED", reason, { cause: err });
      this.log({ level: "warn", msg: "malformed FEC packet dropped", code: "RTP_MALFORMED", reason, bytes, arrivalMs, fecMalformed: n, error });
    }
  }

  /**
   * Media packets the FEC rebuilt go into the jitter buffer as if they had just arrived. One that
   * the buffer takes in order (neither filling a gap it saw, nor late, nor a duplicate) was lost
   * before its loss could show: the last packets of a frame, rebuilt from parity that came before
   * the next frame's first packet. The buffer never counts those as missed; `stats()` adds them to
   * `packetsMissed` and `packetsRecovered`, so the loss the server measures (and the rate control
   * and frame-rate target built on it) is the link's, FEC or not.
   */
  private pushRebuilt(packets: readonly RtpPacket[], arrivalMs: number): void {
    for (const p of packets) {
      if (p.ssrc !== this.ssrc) continue; // parity for another stream: nothing of ours
      const before = this.jb.counters;
      const seen = before.packetsRecovered + before.packetsLate + before.packetsDuplicate;
      const out = this.jb.push(p, arrivalMs);
      const after = this.jb.counters;
      if (after.packetsRecovered + after.packetsLate + after.packetsDuplicate === seen) this.rebuiltUnseen++;
      this.handle(out);
    }
  }

  stats(nowMs: number = this.clock()): ReceiveStats {
    const jb = this.jb.counters;
    const dec = this.decoder.counters;
    const lat = this.latencies.values;
    return {
      ssrc: this.ssrc,
      policy: this.policy.name,
      bitrateBps: this.bytes.sum(nowMs) * 8,
      frameRate: this.decoded.count(nowMs),
      packetsReceived: jb.packetsReceived + this.malformed,
      packetsMalformed: this.malformed,
      packetsDuplicate: jb.packetsDuplicate,
      packetsLate: jb.packetsLate,
      framesComplete: jb.framesComplete,
      framesDecoded: dec.framesOut,
      framesLost: jb.framesLost,
      framesLate: jb.framesLate,
      framesSkipped: this.skipped,
      framesSubstituted: this.store.counters.framesSubstituted,
      keyframeRequests: jb.keyframeRequests,
      packetsNacked: jb.packetsNacked,
      packetsExpected: jb.packetsExpected,
      packetsMissed: jb.packetsMissed + this.rebuiltUnseen,
      packetsRecovered: jb.packetsRecovered + this.rebuiltUnseen,
      framesRecovered: jb.framesRecovered,
      framesDroppedAtDeadline: jb.framesDroppedAtDeadline,
      decoderRestarts: dec.restarts,
      framesDroppedByDecoder: dec.framesDroppedByDecoder,
      receiveLatencyMs: { p50: percentile(lat, 50), p95: percentile(lat, 95), samples: lat.length },
      frameDelayMs: this.delay.stats(),
      fec: this.fec ? { ...this.fec.counters, malformed: this.fecMalformed() } : null,
    };
  }

  /** Stops the deadline timer, lets ffmpeg flush, and resolves when it has exited. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.decoder.close();
  }

  private handle(out: JitterOutput): void {
    this.handling = true;
    try {
      const ssrc = this.ssrc ?? 0;
      if (out.nack.length > 0) safeCall(this.log, "onNack", this.opts.onNack, ssrc, out.nack);
      if (out.needKeyframe) {
        this.log({ level: "info", msg: "keyframe needed" });
        safeCall(this.log, "onKeyframeNeeded", this.opts.onKeyframeNeeded, ssrc);
      }
      for (const lost of out.lost) {
        this.log({
          level: "info", msg: "frame lost", reason: lost.reason, rtpTimestamp: lost.rtpTimestamp,
          missingCount: lost.missing.length, missing: lost.missing.slice(0, 20), declaredMs: lost.declaredMs,
        });
        if (lost.rtpTimestamp !== undefined) this.delay.dropped(this.timeline.toMs(lost.rtpTimestamp));
        safeCall(this.log, "onLoss", this.opts.onLoss, lost);
      }
      for (const late of out.late) this.log({ level: "debug", msg: "frame completed after its deadline", rtpTimestamp: late.rtpTimestamp, lateByMs: late.lateByMs });
      for (const f of out.frames) {
        const timestampMs = this.timeline.toMs(f.rtpTimestamp);
        if (!f.decodable) {
          this.skipped++;
          this.delay.dropped(timestampMs);
          continue;
        }
        this.decoder.decode({ data: f.data, keyframe: f.keyframe, timestampMs, lastPacketArrivalMs: f.lastArrivalMs });
      }
    } finally {
      this.handling = false;
    }
    if (this.keyframeAskedWhileHandling) {
      this.keyframeAskedWhileHandling = false;
      this.handle(this.jb.requestKeyframe(this.clock()));
      return;
    }
    this.schedule();
  }

  private onDecoderNeedsKeyframe(): void {
    // Before the first packet there is no stream to ask; its first keyframe will start the decoder.
    if (this.closed || this.ssrc === undefined) return;
    if (this.handling) {
      this.keyframeAskedWhileHandling = true;
      return;
    }
    this.handle(this.jb.requestKeyframe(this.clock()));
  }

  private onDecoded(f: DecodedFrame): void {
    this.store.put(f, f.decodedMs);
    this.delay.good(f.timestampMs, f.decodedMs);
    this.decoded.add(f.decodedMs);
    this.latencies.push(f.receiveLatencyMs);
    safeCall(this.log, "onFrame", this.opts.onFrame, f);
  }

  /** Wakes the jitter buffer at its next deadline so a stalled stream still declares its losses. */
  private schedule(): void {
    const at = this.jb.nextDeadlineMs();
    if (this.closed || at === undefined) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.timer && this.timerAtMs === at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAtMs = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Polled after the I/O already waiting (setImmediate runs after the event loop's poll
      // phase): after a stall, timers fire before the packets that queued up meanwhile are read,
      // and a frame whose repair sat in the socket buffer was given up (FEC-rebuilt packets then
      // counted only as late, tests/integration/frame-fec under a loaded machine).
      setImmediate(() => {
        if (!this.closed) this.handle(this.jb.poll(this.clock()));
      });
    }, Math.max(0, at - this.clock()) + 1);
    this.timer.unref?.();
  }

  private onMalformed(code: MediaErrorCode, reason: string, bytes: number, arrivalMs: number, cause?: unknown): void {
    this.malformed++;
    const n = this.malformed;
    if (n <= MALFORMED_LOG_FIRST || n % MALFORMED_LOG_EVERY === 0) {
      const error = new MediaError(code, reason, cause === undefined ? undefined : { cause });
      this.log({ level: "warn", msg: "malformed RTP packet dropped", code, reason, bytes, arrivalMs, packetsMalformed: n, error });
    }
  }
}
