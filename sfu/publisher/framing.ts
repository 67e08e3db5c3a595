/**
 * Encoder output on a pipe, cut into frames as the bytes arrive. Three readers with one interface
 * (`push` a chunk, get the frames it completed; `flush` at the end of the stream):
 *
 * - `AnnexBAccessUnitReader`: H.264 Annex B (`-f h264`). Annex B has no lengths, so an access unit
 *   is complete only when the next one starts (the project's `splitH264AccessUnits` rule, ITU-T
 *   H.264 §7.4.1.2.3): every frame waits for the next one, one frame interval of added latency
 *   (200 ms at 5 fps, 1 s at 1 fps).
 * - `FlvH264Reader`: H.264 in FLV (`-f flv`, Adobe FLV spec v10.1 §E.4): every tag carries its size,
 *   so a frame is complete when its last byte arrives. The live encoder's default for H.264.
 * - `IvfFrameReader`: VP8 in IVF, 12-byte frame headers with the size.
 *
 * Pure: no Node imports.
 */
import { splitH264AccessUnits } from "../../encoder/rtp/elementary.ts";
import { joinAnnexB, splitAnnexB } from "../../encoder/rtp/h264.ts";
import { PublisherError } from "./errors.ts";

export interface FrameReader {
  /** Appends bytes; returns the frames they completed, in order. */
  push(chunk: Uint8Array): Uint8Array[];
  /** End of stream: returns what is left as frames (Annex B: the last access unit). */
  flush(): Uint8Array[];
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function malformed(message: string, cause?: unknown): PublisherError {
  return new PublisherError("STREAM_MALFORMED", message, { cause });
}

export class AnnexBAccessUnitReader implements FrameReader {
  private pending: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    this.pending = concat(this.pending, chunk);
    let units: Uint8Array[];
    let nals: Uint8Array[];
    try {
      units = splitH264AccessUnits(this.pending);
      nals = splitAnnexB(this.pending);
    } catch (err) {
      throw malformed("the encoder's H.264 output is not an Annex B stream", err);
    }
    if (units.length < 2) return [];
    // The last unit may still grow: keep its bytes (from its first NAL's start code) for later.
    const lastUnitNals = splitAnnexB(units[units.length - 1]!).length;
    const firstOfLast = nals[nals.length - lastUnitNals]!;
    const offset = firstOfLast.byteOffset - this.pending.byteOffset - 3;
    this.pending = this.pending.slice(offset);
    return units.slice(0, -1);
  }

  flush(): Uint8Array[] {
    const rest = this.pending;
    this.pending = new Uint8Array(0);
    if (rest.length === 0) return [];
    try {
      return splitH264AccessUnits(rest);
    } catch (err) {
      throw malformed("the encoder's H.264 output ended with bytes that are not Annex B", err);
    }
  }
}

const IVF_FRAME_HEADER = 12;

export class IvfFrameReader implements FrameReader {
  private pending: Uint8Array = new Uint8Array(0);
  private headerLength: number | null = null;

  push(chunk: Uint8Array): Uint8Array[] {
    this.pending = concat(this.pending, chunk);
    const frames: Uint8Array[] = [];
    let off = 0;
    const buf = this.pending;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (this.headerLength === null) {
      if (buf.length < 32) return [];
      if (buf[0] !== 0x44 || buf[1] !== 0x4b || buf[2] !== 0x49 || buf[3] !== 0x46) throw malformed("the encoder's VP8 output is not IVF: it does not start with DKIF");
      this.headerLength = dv.getUint16(6, true);
      if (this.headerLength < 32) throw malformed(`IVF header length ${this.headerLength} is below 32 bytes`);
    }
    off = this.headerLength;
    if (buf.length < off) return [];
    while (off + IVF_FRAME_HEADER <= buf.length) {
      const size = dv.getUint32(off, true);
      if (off + IVF_FRAME_HEADER + size > buf.length) break;
      frames.push(buf.slice(off + IVF_FRAME_HEADER, off + IVF_FRAME_HEADER + size));
      off += IVF_FRAME_HEADER + size;
    }
    // From now on the buffer starts at a frame header.
    this.pending = buf.slice(off);
    this.headerLength = 0;
    return frames;
  }

  /** A frame cut short (the encoder was killed) is dropped. */
  flush(): Uint8Array[] {
    this.pending = new Uint8Array(0);
    return [];
  }
}

const FLV_TAG_HEADER = 11;
const FLV_VIDEO = 9;
const FLV_CODEC_AVC = 7;

/**
 * H.264 in FLV to Annex B access units. FLV asks the encoder for out-of-band headers (x264 then
 * puts SPS/PPS only in the AVCDecoderConfigurationRecord, ISO/IEC 14496-15 §5.2.4.1), so they are
 * put back in front of every IDR access unit that lacks them: an RTP receiver joining at a keyframe
 * needs them in band (RFC 6184 §8.4).
 */
export class FlvH264Reader implements FrameReader {
  private pending: Uint8Array = new Uint8Array(0);
  private headerDone = false;
  private lengthSize = 4;
  private parameterSets: Uint8Array[] = [];

  push(chunk: Uint8Array): Uint8Array[] {
    this.pending = concat(this.pending, chunk);
    const buf = this.pending;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let off = 0;
    if (!this.headerDone) {
      if (buf.length < 9) return [];
      if (buf[0] !== 0x46 || buf[1] !== 0x4c || buf[2] !== 0x56) throw malformed("the encoder's output is not FLV: it does not start with FLV");
      const dataOffset = dv.getUint32(5);
      if (buf.length < dataOffset + 4) return [];
      off = dataOffset + 4; // header, then PreviousTagSize0
      this.headerDone = true;
    }
    const frames: Uint8Array[] = [];
    while (off + FLV_TAG_HEADER <= buf.length) {
      const type = buf[off]! & 0x1f;
      const size = (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!;
      const end = off + FLV_TAG_HEADER + size + 4; // tag data, then PreviousTagSize
      if (end > buf.length) break;
      if (type === FLV_VIDEO) {
        const unit = this.videoTag(buf.subarray(off + FLV_TAG_HEADER, off + FLV_TAG_HEADER + size));
        if (unit) frames.push(unit);
      }
      off = end;
    }
    this.pending = buf.slice(off);
    return frames;
  }

  /** A tag cut short (the encoder was killed) is dropped. */
  flush(): Uint8Array[] {
    this.pending = new Uint8Array(0);
    return [];
  }

  private videoTag(tag: Uint8Array): Uint8Array | null {
    if (tag.length < 5) return null;
    if ((tag[0]! & 0x0f) !== FLV_CODEC_AVC) throw malformed(`FLV video tag has codec id ${tag[0]! & 0x0f}, expected 7 (AVC)`);
    const packetType = tag[1];
    const body = tag.subarray(5);
    if (packetType === 0) {
      this.readConfig(body);
      return null;
    }
    if (packetType !== 1) return null; // 2 = end of sequence
    const nals: Uint8Array[] = [];
    let p = 0;
    while (p + this.lengthSize <= body.length) {
      let len = 0;
      for (let k = 0; k < this.lengthSize; k++) len = len * 256 + body[p + k]!;
      p += this.lengthSize;
      if (p + len > body.length) throw malformed(`FLV NAL unit claims ${len} bytes but only ${body.length - p} remain`);
      if (len > 0) nals.push(body.subarray(p, p + len));
      p += len;
    }
    if (nals.length === 0) return null;
    const hasIdr = nals.some((n) => (n[0]! & 0x1f) === 5);
    const hasSps = nals.some((n) => (n[0]! & 0x1f) === 7);
    return joinAnnexB(hasIdr && !hasSps ? [...this.parameterSets, ...nals] : nals);
  }

  /** AVCDecoderConfigurationRecord: lengths of NAL sizes, SPS and PPS lists. */
  private readConfig(rec: Uint8Array): void {
    if (rec.length < 7) throw malformed("FLV AVC sequence header is too short");
    this.lengthSize = (rec[4]! & 0x03) + 1;
    const sets: Uint8Array[] = [];
    let p = 5;
    for (const mask of [0x1f, 0xff]) {
      const count = rec[p]! & mask;
      p++;
      for (let i = 0; i < count; i++) {
        if (p + 2 > rec.length) throw malformed("FLV AVC sequence header ends inside a parameter set");
        const len = (rec[p]! << 8) | rec[p + 1]!;
        p += 2;
        if (p + len > rec.length) throw malformed("FLV AVC sequence header ends inside a parameter set");
        sets.push(rec.slice(p, p + len));
        p += len;
      }
    }
    this.parameterSets = sets;
  }
}
