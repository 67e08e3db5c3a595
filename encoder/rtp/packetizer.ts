/**
 * Frame <-> RTP packet glue: a stateful packetizer that numbers packets, and a frame assembler that
 * checks a frame's packets are all there before depacketizing.
 *
 * Both are pure: time and sequence numbers come in as arguments, nothing reads a clock.
 */
import { EncoderError } from "../errors.ts";
import { depacketizeH264, isH264Keyframe, isH264PayloadStart, packetizeH264 } from "./h264.ts";
import { type RtpPacket, seqAdd, seqDiff } from "./packet.ts";
import { DEFAULT_RTP_MTU, depacketizeVp8, isVp8FrameStart, packetizeVp8 } from "./vp8.ts";

export type RtpVideoCodec = "vp8" | "h264";

/** RFC 7741 §4.1 and RFC 6184 §5.1: both video formats use a 90 kHz RTP timestamp clock. */
export const VIDEO_CLOCK_RATE = 90_000;

export interface RtpPacketizerOptions {
  codec: RtpVideoCodec;
  ssrc: number;
  payloadType: number;
  /** Sequence number of the first packet. RFC 3550 §5.1 wants it random; the caller picks it. */
  initialSequenceNumber: number;
  /** RTP timestamp of media time 0 ms when frames are given in milliseconds (RFC 3550 §5.1: random). */
  initialTimestamp?: number;
  /** Largest RTP payload in bytes (RTP header excluded). Default 1200. */
  mtu?: number;
  /** VP8 only: picture ID of the first frame. When set, each frame carries it and it counts up mod 2^15. */
  initialPictureId?: number;
}

/** When a frame was captured: a ready RTP timestamp, or milliseconds of media time on the 90 kHz clock. */
export type FrameTime = { rtpTimestamp: number } | { timestampMs: number };

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new EncoderError("INVALID_OPTION", `RtpPacketizer ${name} must be an integer in 0..${max}, got ${value}`);
  }
}

export class RtpPacketizer {
  readonly codec: RtpVideoCodec;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly mtu: number;
  private readonly initialTimestamp: number;
  private sequenceNumber: number;
  private pictureId: number | undefined;

  constructor(opts: RtpPacketizerOptions) {
    checkUint("ssrc", opts.ssrc, 0xffffffff);
    checkUint("payloadType", opts.payloadType, 0x7f);
    checkUint("initialSequenceNumber", opts.initialSequenceNumber, 0xffff);
    checkUint("initialTimestamp", opts.initialTimestamp ?? 0, 0xffffffff);
    if (opts.initialPictureId !== undefined) checkUint("initialPictureId", opts.initialPictureId, 0x7fff);
    if (opts.codec !== "vp8" && opts.codec !== "h264") {
      throw new EncoderError("INVALID_OPTION", `RtpPacketizer codec must be "vp8" or "h264", got ${String(opts.codec)}`);
    }
    this.codec = opts.codec;
    this.ssrc = opts.ssrc;
    this.payloadType = opts.payloadType;
    this.mtu = opts.mtu ?? DEFAULT_RTP_MTU;
    this.initialTimestamp = opts.initialTimestamp ?? 0;
    this.sequenceNumber = opts.initialSequenceNumber;
    this.pictureId = opts.codec === "vp8" ? opts.initialPictureId : undefined;
  }

  /** Sequence number the next packet will get. */
  get nextSequenceNumber(): number {
    return this.sequenceNumber;
  }

  /** RTP timestamp for a media time in ms: 90 ticks per ms from initialTimestamp, wrapped to 32 bits. */
  rtpTimestampFor(timestampMs: number): number {
    if (!Number.isFinite(timestampMs)) {
      throw new EncoderError("INVALID_OPTION", `timestampMs must be a finite number, got ${timestampMs}`);
    }
    const ticks = Math.round((timestampMs * VIDEO_CLOCK_RATE) / 1000);
    return (((this.initialTimestamp + ticks) % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
  }

  /**
   * Packets of one frame (VP8 frame or H.264 Annex B access unit): consecutive sequence numbers
   * wrapping at 65536, one timestamp, marker on the last packet (RFC 7741 §4.1, RFC 6184 §5.1:
   * the marker is set on the last packet of the frame / access unit). The sequence counter moves
   * only when packetizing succeeds.
   */
  packetizeFrame(frame: Uint8Array, time: FrameTime, opts: { keyframe?: boolean } = {}): RtpPacket[] {
    let timestamp: number;
    if ("rtpTimestamp" in time) {
      checkUint("rtpTimestamp", time.rtpTimestamp, 0xffffffff);
      timestamp = time.rtpTimestamp;
    } else {
      timestamp = this.rtpTimestampFor(time.timestampMs);
    }
    let payloads: Uint8Array[];
    if (this.codec === "vp8") {
      const vp8Opts: Parameters<typeof packetizeVp8>[1] = { mtu: this.mtu };
      if (this.pictureId !== undefined) vp8Opts.pictureId = this.pictureId;
      if (opts.keyframe !== undefined) vp8Opts.keyframe = opts.keyframe;
      payloads = packetizeVp8(frame, vp8Opts);
      if (this.pictureId !== undefined) this.pictureId = (this.pictureId + 1) & 0x7fff;
    } else {
      payloads = packetizeH264(frame, { mtu: this.mtu });
    }
    const packets = payloads.map((payload, i) => ({
      marker: i === payloads.length - 1,
      payloadType: this.payloadType,
      sequenceNumber: seqAdd(this.sequenceNumber, i),
      timestamp,
      ssrc: this.ssrc,
      payload,
    }));
    this.sequenceNumber = seqAdd(this.sequenceNumber, payloads.length);
    return packets;
  }
}

export type AssemblyResult =
  | {
      complete: true;
      frame: Uint8Array;
      keyframe: boolean;
      timestamp: number;
      firstSequenceNumber: number;
      lastSequenceNumber: number;
      /** VP8 picture ID, when the sender put one in. */
      pictureId?: number;
    }
  | {
      complete: false;
      /** Sequence numbers known to be missing, in order. More may be missing where the flags below say. */
      missing: number[];
      /** False: the packet with the marker has not arrived, so packets after the last one seen may be missing too. */
      markerSeen: boolean;
      /**
       * False: the frame's first packet is not here. With `firstSequenceNumber` given, that number is
       * in `missing`; without it, the earliest packet present cannot start a frame, so an unknown
       * number of packets before it are missing too.
       */
      startSeen: boolean;
    };

/**
 * Reassembles one frame from its RTP packets (one SSRC, one timestamp) in any order.
 * Packets are ordered by 16-bit sequence distance, so the frame may cross 65535 -> 0 as long as
 * it spans fewer than 32768 packets. Duplicates (e.g. retransmissions) are dropped.
 */
export class FrameAssembler {
  constructor(readonly codec: RtpVideoCodec) {}

  /**
   * @param firstSequenceNumber the sequence number the frame must start at, when the caller knows it
   *   (previous frame's marker packet + 1). Without it the first packet present counts as the start
   *   if the codec says it can start a frame.
   */
  assemble(packets: readonly RtpPacket[], opts: { firstSequenceNumber?: number } = {}): AssemblyResult {
    const anchor = packets[0];
    if (!anchor) return { complete: false, missing: [], markerSeen: false, startSeen: false };
    const bySeq = new Map<number, RtpPacket>();
    for (const p of packets) {
      if (p.timestamp !== anchor.timestamp || p.ssrc !== anchor.ssrc) {
        throw new EncoderError(
          "RTP_MALFORMED",
          `FrameAssembler got packets of different frames: ssrc/timestamp ${anchor.ssrc}/${anchor.timestamp} and ${p.ssrc}/${p.timestamp}`,
        );
      }
      if (!bySeq.has(p.sequenceNumber)) bySeq.set(p.sequenceNumber, p);
    }
    const sorted = [...bySeq.values()].sort(
      (a, b) => seqDiff(anchor.sequenceNumber, a.sequenceNumber) - seqDiff(anchor.sequenceNumber, b.sequenceNumber),
    );
    const first = sorted[0]!;
    const last = sorted[sorted.length - 1]!;
    const markers = sorted.filter((p) => p.marker);
    if (markers.length > 1 || (markers.length === 1 && markers[0] !== last)) {
      throw new EncoderError(
        "RTP_MALFORMED",
        `FrameAssembler: marker packet ${markers[0]!.sequenceNumber} is not the last packet of timestamp ${anchor.timestamp}`,
      );
    }
    const markerSeen = markers.length === 1;

    let start = first.sequenceNumber;
    let startSeen: boolean;
    if (opts.firstSequenceNumber !== undefined) {
      if (seqDiff(opts.firstSequenceNumber, first.sequenceNumber) < 0) {
        throw new EncoderError(
          "RTP_MALFORMED",
          `FrameAssembler: packet ${first.sequenceNumber} comes before the frame start ${opts.firstSequenceNumber}`,
        );
      }
      start = opts.firstSequenceNumber;
      startSeen = bySeq.has(start);
    } else {
      startSeen = this.codec === "vp8" ? isVp8FrameStart(first.payload) : isH264PayloadStart(first.payload);
    }

    const missing: number[] = [];
    const span = seqDiff(start, last.sequenceNumber);
    for (let d = 0; d <= span; d++) {
      const seq = seqAdd(start, d);
      if (!bySeq.has(seq)) missing.push(seq);
    }
    if (missing.length > 0 || !markerSeen || !startSeen) return { complete: false, missing, markerSeen, startSeen };

    const payloads = sorted.map((p) => p.payload);
    const base = {
      complete: true as const,
      timestamp: anchor.timestamp,
      firstSequenceNumber: start,
      lastSequenceNumber: last.sequenceNumber,
    };
    if (this.codec === "vp8") {
      const { frame, keyframe, pictureId } = depacketizeVp8(payloads);
      return pictureId === undefined ? { ...base, frame, keyframe } : { ...base, frame, keyframe, pictureId };
    }
    const frame = depacketizeH264(payloads);
    return { ...base, frame, keyframe: isH264Keyframe(frame) };
  }
}
