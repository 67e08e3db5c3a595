/**
 * Jitter buffer for one RTP video stream: groups packets by RTP timestamp into frames with
 * `FrameAssembler`, releases complete frames in decode order (RTP sequence order, RFC 3550 §5.1,
 * 16-bit wrap handled with `seqDiff`), and gives up on a frame `maxWaitMs` after its newest packet
 * arrived (a paced frame still arriving is not lost; receive-policy.ts pacedFrameCap), so later
 * frames are never held back for longer than that. The policy may give up sooner:
 * the resilient policy drops a frame as soon as its loss is visible and reordering had its chance
 * (`ReceivePolicy.frameDeadlineMs`, with `lossSuspectedMs` tracked here).
 *
 * Loss and keyframes. VP8 and H.264 delta frames reference earlier frames; once one frame is lost
 * the reference chain is broken, and we assume (simply, and as WebRTC receivers without reference
 * tracking do) that every later frame needs a keyframe. Frames released after a loss are marked
 * `decodable: false` until a keyframe arrives; `needKeyframe` asks the caller to send a PLI, at most
 * once per `policy.keyframeRequestIntervalMs`, repeated while delta frames keep arriving without one
 * (at the loss already, or only at the first undecodable frame: `policy.keyframeRequestOnLoss`).
 *
 * Temporal layers (VP8 with the T and L bits, RFC 7741 §4.2: a browser with `scalabilityMode`
 * L1T2/L1T3). A frame of layer TID references only frames of layers <= TID, and a layer sync frame
 * (Y) only the base layer frame its TL0PICIDX names. So the chain is tracked per layer, as
 * libwebrtc's RtpVp8RefFinder does: a base-layer frame is decodable when it follows the previous
 * one (TL0PICIDX + 1), an upper-layer frame when its TL0PICIDX is the newest base frame's and its
 * layer is intact (or it is a sync frame). A lost upper-layer frame breaks its layer and those
 * above until they resync: their frames are released undecodable, and no keyframe is asked for.
 * Only a break of the base layer (a TL0PICIDX skipped) needs one. A frame lost whole, whose layer
 * nobody knows, breaks every upper layer; the TL0PICIDX of the frames after it shows whether it
 * was a base frame.
 *
 * Recovered frames. A packet that arrives after its sequence number was seen missing (a NACKed
 * retransmission, or reordering) marks its frame `recovered`: such frames waited for the repair,
 * which is what the resilient policy avoids. Counted in `packetsRecovered` / `framesRecovered`.
 *
 * Late frames. A frame given up at its deadline counts as lost. If its missing packets turn up
 * afterwards (jitter or a slow retransmission), it moves from `framesLost` to `framesLate` and is
 * reported in `late`: the data came, only too late to be used.
 *
 * Limits: one SSRC per buffer; a sender that restarts its sequence numbers far behind the current
 * ones on the same SSRC looks like late packets until a new buffer is made. Reordering is NACKed at
 * once (no reordering allowance), as the gap is first seen.
 *
 * Pure: the clock is the `nowMs` argument. The shell calls `poll(nowMs)` at `nextDeadlineMs()`.
 */
import { type AssemblyResult, FrameAssembler, type RtpPacket, type RtpVideoCodec, rtpPacketSize, seqAdd, seqDiff } from "../../encoder/rtp/index.ts";
import { parseVp8Descriptor } from "../../encoder/rtp/vp8.ts";
import { frameStartConfidence } from "./frame-start.ts";
import {
  BoundedMap, emptyOutput, type JitterCounters, type JitterOutput, type LossReason, MAX_LISTED_MISSING, seqRange,
} from "./jitter-types.ts";
import { classicPolicy, type ReceivePolicy } from "./receive-policy.ts";

export interface JitterBufferOptions {
  readonly codec: RtpVideoCodec;
  /** How long a frame may stay incomplete after its newest packet arrived (the cap for every policy). Default 100 ms. */
  readonly maxWaitMs?: number;
  /** Default: `classicPolicy()`. */
  readonly policy?: ReceivePolicy;
}

interface PendingFrame {
  readonly ts: number;
  readonly packets: RtpPacket[];
  minSeq: number;
  maxSeq: number;
  first: RtpPacket;
  readonly firstArrivalMs: number;
  lastArrivalMs: number;
  lossSuspectedMs: number | undefined;
  /**
   * When a gap was seen just before this frame's first packet, a sure frame start. The missing
   * packets belong to the frames before it (a pending frame's tail, or whole frames): this times
   * their "missing" declaration, never the give-up of this frame, which lost nothing of its own.
   */
  gapBeforeMs: number | undefined;
  recovered: boolean;
  /** VP8 temporal layer fields of the frame's packets (undefined: not sent, or not VP8). */
  temporalId?: number;
  layerSync?: boolean;
  tl0PicIdx?: number;
}

export type { JitterCounters, JitterOutput, LateFrame, LossReason, LostFrame, ReleasedFrame } from "./jitter-types.ts";

interface DropRecord {
  readonly ts: number | undefined;
  readonly missing: Set<number>;
  readonly declaredMs: number;
}

const RECENT_SEQS = 2048;
const RECENT_FRAMES = 128;

export class JitterBuffer {
  readonly maxWaitMs: number;
  readonly policy: ReceivePolicy;
  private readonly codec: RtpVideoCodec;
  private readonly assembler: FrameAssembler;
  private readonly pending = new Map<number, PendingFrame>();
  /** First sequence number of the next frame to release; `nextExact` false means only a lower bound. */
  private nextSeq: number | undefined;
  private nextExact = false;
  private highestSeq: number | undefined;
  private readonly recentSeqs = new BoundedMap<number, true>(RECENT_SEQS);
  /** Timestamps of frames already released (null) or given up (their record). */
  private readonly finished = new BoundedMap<number, DropRecord | null>(RECENT_FRAMES);
  private readonly dropBySeq = new BoundedMap<number, DropRecord>(RECENT_SEQS);
  /** Sequence numbers seen missing (a later packet came first) and not arrived since. */
  private readonly missedSeqs = new BoundedMap<number, true>(RECENT_SEQS);
  private awaitingKeyframe = true;
  /** Temporal layers: the newest decodable base frame's TL0PICIDX, and which upper layers are broken (index = TID, two bits: 0-3). */
  private lastTl0: number | undefined;
  private readonly layerBroken = [false, false, false, false];
  /** The stream has carried temporal layer fields (a loss then breaks only the upper layers). */
  private layered = false;
  private keyframeWanted = false;
  private lastKeyframeRequestMs: number | undefined;
  private readonly c: JitterCounters = {
    framesComplete: 0, framesLost: 0, framesLate: 0, framesUndecodable: 0, packetsReceived: 0,
    packetsDuplicate: 0, packetsLate: 0, bytesReceived: 0, packetsNacked: 0, keyframeRequests: 0,
    packetsExpected: 0, packetsMissed: 0, packetsRecovered: 0, framesRecovered: 0, framesDroppedAtDeadline: 0,
  };

  constructor(options: JitterBufferOptions) {
    this.codec = options.codec;
    this.maxWaitMs = options.maxWaitMs ?? 100;
    if (!(this.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0, got ${options.maxWaitMs}`);
    this.policy = options.policy ?? classicPolicy();
    this.assembler = new FrameAssembler(options.codec);
  }

  get counters(): Readonly<JitterCounters> {
    return { ...this.c };
  }

  get pendingFrames(): number {
    return this.pending.size;
  }

  /** Earliest time at which `poll` has something to do: a frame's deadline or a held-back keyframe request. */
  nextDeadlineMs(): number | undefined {
    let t: number | undefined;
    for (const f of this.pending.values()) t = Math.min(t ?? Infinity, this.deadlineOf(f), this.gapDeadlineOf(f));
    if (this.keyframeWanted && this.awaitingKeyframe && this.lastKeyframeRequestMs !== undefined) {
      t = Math.min(t ?? Infinity, this.lastKeyframeRequestMs + this.policy.keyframeRequestIntervalMs);
    }
    return t;
  }

  push(packet: RtpPacket, nowMs: number): JitterOutput {
    const out = emptyOutput();
    const seq = packet.sequenceNumber;
    this.c.packetsReceived++;
    this.c.bytesReceived += rtpPacketSize(packet);
    if (this.recentSeqs.has(seq)) {
      this.c.packetsDuplicate++;
      return this.finish(nowMs, out);
    }
    this.recentSeqs.set(seq, true);
    const gapSeen = this.detectGap(seq, nowMs, out);

    const stale = this.dropBySeq.has(seq) || this.finished.has(packet.timestamp) ||
      (this.nextSeq !== undefined && seqDiff(this.nextSeq, seq) < 0);
    if (stale) {
      this.onLatePacket(packet, nowMs, out);
      return this.finish(nowMs, out);
    }
    const recovered = this.missedSeqs.has(seq);
    if (recovered) {
      this.missedSeqs.delete(seq);
      this.c.packetsRecovered++;
    }
    const f = this.pending.get(packet.timestamp);
    if (!f) {
      // A later frame has started: frames still pending before it will get their missing packets
      // only by reordering or retransmission.
      for (const other of this.pending.values()) if (seqDiff(other.maxSeq, seq) > 0) other.lossSuspectedMs ??= nowMs;
      // A gap before a packet that surely opens its frame belongs to the frames before it (the
      // previous frame's tail, suspected above and in detectGap, or whole frames: gapBeforeMs).
      // This frame lost nothing yet. Suspecting it too gave up a paced frame `reorderWindowMs`
      // after a loss in the frame before it, while its own packets were still arriving in order.
      const sureStart = frameStartConfidence(this.codec, packet.payload) === "sure";
      this.pending.set(packet.timestamp, {
        ts: packet.timestamp, packets: [packet], minSeq: seq, maxSeq: seq, first: packet, firstArrivalMs: nowMs, lastArrivalMs: nowMs,
        lossSuspectedMs: gapSeen && !sureStart ? nowMs : undefined, gapBeforeMs: gapSeen && sureStart ? nowMs : undefined, recovered,
        ...this.layerFields(packet),
      });
    } else {
      if (recovered) f.recovered = true;
      f.packets.push(packet);
      f.lastArrivalMs = nowMs;
      if (seqDiff(f.minSeq, seq) < 0) {
        f.minSeq = seq;
        f.first = packet;
      }
      if (seqDiff(f.maxSeq, seq) > 0) f.maxSeq = seq;
    }
    return this.finish(nowMs, out);
  }

  /** Applies deadlines and held-back keyframe requests; call at `nextDeadlineMs()`. */
  poll(nowMs: number): JitterOutput {
    return this.finish(nowMs, emptyOutput());
  }

  /** The decoder lost its references (restart, refused frame): hold frames back until a keyframe. */
  requestKeyframe(nowMs: number): JitterOutput {
    this.awaitingKeyframe = true;
    this.keyframeWanted = true;
    return this.finish(nowMs, emptyOutput());
  }

  private finish(nowMs: number, out: JitterOutput): JitterOutput {
    this.drain(nowMs, out);
    if (this.keyframeWanted && this.awaitingKeyframe) {
      const last = this.lastKeyframeRequestMs;
      if (last === undefined || nowMs - last >= this.policy.keyframeRequestIntervalMs) {
        out.needKeyframe = true;
        this.lastKeyframeRequestMs = nowMs;
        this.keyframeWanted = false;
        this.c.keyframeRequests++;
      }
    }
    return out;
  }

  /** RFC 4585 §6.2.1: a packet ahead of the highest seen one reveals the run between as missing. True when it did. */
  private detectGap(seq: number, nowMs: number, out: JitterOutput): boolean {
    if (this.highestSeq === undefined) {
      this.highestSeq = seq;
      this.c.packetsExpected = 1;
      return false;
    }
    const d = seqDiff(this.highestSeq, seq);
    if (d <= 0) return false;
    // A jump of more than MAX_LISTED_MISSING is a discontinuity (a sender restart), not loss: it
    // would swamp the loss rate the frame-rate target is computed from.
    this.c.packetsExpected += d > MAX_LISTED_MISSING ? 1 : d;
    if (d > 1) {
      const gap = seqRange(seqAdd(this.highestSeq, 1), seq);
      if (d <= MAX_LISTED_MISSING) this.c.packetsMissed += d - 1;
      for (const s of gap) this.missedSeqs.set(s, true);
      for (const f of this.pending.values()) f.lossSuspectedMs ??= nowMs;
      const nack = this.policy.onLoss(gap, nowMs).nack;
      out.nack.push(...nack);
      this.c.packetsNacked += nack.length;
    }
    this.highestSeq = seq;
    return d > 1;
  }

  private onLatePacket(packet: RtpPacket, nowMs: number, out: JitterOutput): void {
    this.c.packetsLate++;
    const rec = this.dropBySeq.get(packet.sequenceNumber);
    if (!rec) return;
    this.dropBySeq.delete(packet.sequenceNumber);
    rec.missing.delete(packet.sequenceNumber);
    if (rec.missing.size > 0) return;
    this.c.framesLost--;
    this.c.framesLate++;
    out.late.push({ rtpTimestamp: rec.ts, completedMs: nowMs, lateByMs: nowMs - rec.declaredMs });
  }

  /** Pending frame earliest in sequence order. */
  private head(): PendingFrame | undefined {
    let best: PendingFrame | undefined;
    for (const f of this.pending.values()) {
      if (!best || seqDiff(best.minSeq, f.minSeq) < 0) best = f;
    }
    return best;
  }

  private drain(nowMs: number, out: JitterOutput): void {
    for (;;) {
      const head = this.head();
      if (!head) return;
      const exact = this.nextSeq !== undefined && this.nextExact;
      const confidence = frameStartConfidence(this.codec, head.first.payload);
      const start = exact ? this.nextSeq : confidence !== "no" ? head.minSeq : undefined;
      const expired = nowMs >= this.deadlineOf(head);
      // A gap before a packet that surely opens a frame, still open at the gap's deadline (or the
      // frame's): whole frames went missing.
      if (exact && start !== head.minSeq && confidence === "sure" && (expired || nowMs >= this.gapDeadlineOf(head))) {
        this.declareLost(out, nowMs, undefined, "missing", seqRange(start!, head.minSeq));
        this.setNext(head.minSeq, true);
        continue;
      }
      let res: AssemblyResult | undefined;
      try {
        res = start === undefined ? undefined : this.assembler.assemble(head.packets, { firstSequenceNumber: start });
      } catch (err) {
        this.retire(head, null);
        this.setNext(seqAdd(head.maxSeq, 1), false);
        this.declareLost(out, nowMs, head.ts, "malformed", [], err instanceof Error ? err.message : String(err));
        continue;
      }
      if (res?.complete) {
        // A start guessed from the payload may be wrong (an earlier packet of the frame still on its
        // way), and before the first release nothing says no earlier frame is coming: unless the
        // start is sure and the frame needs nothing before it, wait until the deadline.
        const guessed = !exact && (confidence !== "sure" || (this.nextSeq === undefined && !res.keyframe));
        if (guessed && !expired) return;
        this.release(head, res, nowMs, out);
        continue;
      }
      if (!expired) return;
      this.giveUp(head, res, start, nowMs, out);
    }
  }

  private deadlineOf(f: PendingFrame): number {
    return this.policy.frameDeadlineMs(f, this.maxWaitMs);
  }

  /** When the gap before `f` is declared missing frames, if nothing pending before it takes the gap first. */
  private gapDeadlineOf(f: PendingFrame): number {
    if (f.gapBeforeMs === undefined) return Infinity;
    return this.policy.frameDeadlineMs({ firstArrivalMs: f.firstArrivalMs, lastArrivalMs: f.lastArrivalMs, lossSuspectedMs: f.gapBeforeMs }, this.maxWaitMs);
  }

  private release(head: PendingFrame, res: Extract<AssemblyResult, { complete: true }>, nowMs: number, out: JitterOutput): void {
    this.retire(head, null);
    this.setNext(seqAdd(res.lastSequenceNumber, 1), true);
    if (res.keyframe) {
      this.awaitingKeyframe = false;
      this.keyframeWanted = false;
      this.layerBroken.fill(false);
      this.lastTl0 = head.tl0PicIdx;
    }
    let decodable = !this.awaitingKeyframe;
    if (decodable && !res.keyframe && head.temporalId !== undefined && head.tl0PicIdx !== undefined) {
      decodable = this.layerDecodable(head.temporalId, head.tl0PicIdx, head.layerSync === true);
    }
    if (!decodable) {
      // A break of an upper layer heals at the layer's next sync frame; only the base layer's needs a keyframe.
      if (this.awaitingKeyframe) this.keyframeWanted = true;
      this.c.framesUndecodable++;
    }
    this.c.framesComplete++;
    if (head.recovered) this.c.framesRecovered++;
    out.frames.push({
      rtpTimestamp: head.ts,
      data: res.frame,
      keyframe: res.keyframe,
      firstSequenceNumber: res.firstSequenceNumber,
      lastSequenceNumber: res.lastSequenceNumber,
      firstArrivalMs: head.firstArrivalMs,
      lastArrivalMs: head.lastArrivalMs,
      decodable,
      releasedMs: nowMs,
      recovered: head.recovered,
    });
  }

  /** VP8 temporal layer fields of a packet (undefined without the T and L bits, or for H.264). */
  private layerFields(packet: RtpPacket): Pick<PendingFrame, "temporalId" | "layerSync" | "tl0PicIdx"> {
    if (this.codec !== "vp8") return {};
    let d;
    try {
      d = parseVp8Descriptor(packet.payload);
    } catch {
      return {}; // the assembler reports a malformed payload when the frame is put together
    }
    if (d.temporalId === undefined || d.tl0PicIdx === undefined) return {};
    this.layered = true;
    return { temporalId: d.temporalId, layerSync: d.layerSync === true, tl0PicIdx: d.tl0PicIdx };
  }

  /** Temporal layers: whether a non-key frame of layer `tid` under base frame `tl0` can be decoded (and the chain state after it). */
  private layerDecodable(tid: number, tl0: number, sync: boolean): boolean {
    if (tid === 0) {
      // The next base frame references the previous one: TL0PICIDX must follow on (8 bits, §4.2).
      if (this.lastTl0 === undefined || tl0 !== ((this.lastTl0 + 1) & 0xff)) {
        this.awaitingKeyframe = true;
        return false;
      }
      this.lastTl0 = tl0;
      return true;
    }
    if (tl0 !== this.lastTl0) {
      // Its base frame never came (a later TL0PICIDX): the base chain is broken.
      this.awaitingKeyframe = true;
      return false;
    }
    if (sync) {
      this.layerBroken[tid] = false;
      return true;
    }
    return !this.layerBroken[tid];
  }

  private giveUp(head: PendingFrame, res: AssemblyResult | undefined, start: number | undefined, nowMs: number, out: JitterOutput): void {
    const missing = res && !res.complete ? [...res.missing] : [];
    // Start unknown: the packets between the previous frame's lower bound and this one are its head.
    if (start === undefined && this.nextSeq !== undefined) missing.unshift(...seqRange(this.nextSeq, head.minSeq));
    const markerSeen = head.packets.some((p) => p.marker);
    let tailKnown = markerSeen;
    this.pending.delete(head.ts);
    const next = this.head();
    if (markerSeen) {
      this.setNext(seqAdd(head.maxSeq, 1), true);
    } else if (next && frameStartConfidence(this.codec, next.first.payload) === "sure") {
      // The marker packet is missing: everything up to the next frame's first packet was ours.
      missing.push(...seqRange(seqAdd(head.maxSeq, 1), next.minSeq));
      this.setNext(next.minSeq, true);
      tailKnown = true;
    } else {
      this.setNext(seqAdd(head.maxSeq, 1), false);
    }
    const detail = tailKnown ? undefined : "marker packet not seen: packets after the last one listed may be missing too";
    const rec = this.declareLost(out, nowMs, head.ts, "incomplete", missing.slice(0, MAX_LISTED_MISSING), detail, head.temporalId);
    this.finished.set(head.ts, rec);
  }

  private declareLost(out: JitterOutput, nowMs: number, ts: number | undefined, reason: LossReason, missing: number[], detail?: string, temporalId?: number): DropRecord {
    this.c.framesLost++;
    if (reason !== "malformed") this.c.framesDroppedAtDeadline++;
    if (this.layered && temporalId !== 0) {
      // An upper-layer frame (or one whose layer is unknown: lost whole) breaks its layer and the
      // ones above; whether a base frame went with it shows in the next frames' TL0PICIDX.
      this.layerBroken.fill(true, temporalId ?? 1);
    } else {
      this.awaitingKeyframe = true;
      // Otherwise the first undecodable frame released asks (see release()).
      if (this.policy.keyframeRequestOnLoss) this.keyframeWanted = true;
    }
    const rec: DropRecord = { ts, missing: new Set(missing), declaredMs: nowMs };
    for (const s of missing) this.dropBySeq.set(s, rec);
    out.lost.push(detail === undefined
      ? { rtpTimestamp: ts, reason, missing, declaredMs: nowMs }
      : { rtpTimestamp: ts, reason, missing, declaredMs: nowMs, detail });
    return rec;
  }

  private retire(f: PendingFrame, rec: DropRecord | null): void {
    this.pending.delete(f.ts);
    this.finished.set(f.ts, rec);
  }

  private setNext(seq: number, exact: boolean): void {
    this.nextSeq = seq;
    this.nextExact = exact;
  }
}
