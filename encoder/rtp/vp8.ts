/**
 * VP8 RTP payload format, RFC 7741.
 *
 * Every RTP payload starts with the VP8 payload descriptor (§4.2):
 *
 *        0 1 2 3 4 5 6 7
 *       +-+-+-+-+-+-+-+-+
 *       |X|R|N|S|R| PID | (REQUIRED)
 *       +-+-+-+-+-+-+-+-+
 *  X:   |I|L|T|K| RSV   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *  I:   |M| PictureID   | (OPTIONAL, second PictureID octet follows when M=1)
 *       +-+-+-+-+-+-+-+-+
 *  L:   |   TL0PICIDX   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *  T/K: |TID|Y| KEYIDX  | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *
 * followed by a piece of the VP8 frame. The frame is sent as one partition run (PID 0, S=1 on the
 * first packet only): we do not parse VP8 partitions, which RFC 7741 §4.4 allows ("the packetizer
 * may ... ignore partition boundaries").
 *
 * Pure module (no Node imports): the browser client can reuse it.
 */
import { EncoderError } from "../errors.ts";
import { splitAboutEqually } from "./split.ts";

export const DEFAULT_RTP_MTU = 1200;

export interface Vp8PacketizeOptions {
  /** Largest RTP payload in bytes, descriptor included. Default 1200. */
  mtu?: number;
  /** 15-bit picture ID. When given, every packet carries the extended descriptor X=1, I=1, M=1. */
  pictureId?: number;
  /**
   * What the caller believes the frame is. VP8 says it itself (P bit, §4.3), so this is only a
   * consistency check: a mismatch means the caller wired the wrong flag and we refuse the frame.
   */
  keyframe?: boolean;
}

/** Parsed VP8 payload descriptor (RFC 7741 §4.2). */
export interface Vp8Descriptor {
  /** Bytes the descriptor takes at the start of the payload. */
  size: number;
  /** N: the frame is not used as a reference and may be dropped. */
  nonReference: boolean;
  /** S: this packet starts a VP8 partition. */
  start: boolean;
  /** PID: partition index, 0..7. */
  partitionId: number;
  pictureId?: number;
  /** 7 or 15: how many bits the picture ID was sent with (M bit). */
  pictureIdBits?: 7 | 15;
  tl0PicIdx?: number;
  temporalId?: number;
  layerSync?: boolean;
  keyIdx?: number;
}

export interface Vp8Frame {
  frame: Uint8Array;
  keyframe: boolean;
  pictureId?: number;
}

function malformed(message: string): EncoderError {
  return new EncoderError("RTP_MALFORMED", message);
}

/** §4.3: in the first byte of the VP8 payload header the lowest bit is P, the inverse key frame flag. */
function isVp8KeyframeByte(b: number): boolean {
  return (b & 0x01) === 0;
}

/**
 * Splits one VP8 frame into RTP payloads (descriptor + data), each at most `mtu` bytes and about
 * equal in size (split.ts).
 * An empty frame throws: a VP8 frame always has at least its 3-byte frame tag, and a frame sent as
 * zero packets would have no packet to carry the RTP marker.
 */
export function packetizeVp8(frame: Uint8Array, opts: Vp8PacketizeOptions = {}): Uint8Array[] {
  const mtu = opts.mtu ?? DEFAULT_RTP_MTU;
  const { pictureId } = opts;
  if (pictureId !== undefined && (!Number.isInteger(pictureId) || pictureId < 0 || pictureId > 0x7fff)) {
    throw new EncoderError("INVALID_OPTION", `VP8 pictureId must be an integer in 0..32767, got ${pictureId}`);
  }
  const descriptorSize = pictureId === undefined ? 1 : 4;
  if (!Number.isInteger(mtu) || mtu <= descriptorSize) {
    throw new EncoderError(
      "INVALID_OPTION",
      `VP8 mtu must be an integer above the ${descriptorSize}-byte payload descriptor, got ${mtu}`,
    );
  }
  if (frame.length === 0) throw malformed("cannot packetize an empty VP8 frame");
  if (opts.keyframe !== undefined && opts.keyframe !== isVp8KeyframeByte(frame[0]!)) {
    throw new EncoderError(
      "INVALID_OPTION",
      `VP8 keyframe option is ${opts.keyframe} but the frame's P bit (RFC 7741 §4.3) says ${!opts.keyframe}`,
    );
  }

  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const size of splitAboutEqually(frame.length, mtu - descriptorSize)) {
    const chunk = frame.subarray(offset, offset + size);
    const out = new Uint8Array(descriptorSize + chunk.length);
    // §4.2: S=1 only where the (single) partition 0 starts; PID stays 0 throughout.
    out[0] = (pictureId === undefined ? 0 : 0x80) | (offset === 0 ? 0x10 : 0);
    if (pictureId !== undefined) {
      out[1] = 0x80; // I: picture ID present; L, T, K off.
      out[2] = 0x80 | (pictureId >> 8); // M=1: 15-bit picture ID, high 7 bits here.
      out[3] = pictureId & 0xff;
    }
    out.set(chunk, descriptorSize);
    payloads.push(out);
    offset += size;
  }
  return payloads;
}

/** Reads the payload descriptor at the start of one RTP payload (RFC 7741 §4.2). */
export function parseVp8Descriptor(payload: Uint8Array): Vp8Descriptor {
  let offset = 0;
  const need = (what: string): number => {
    const b = payload[offset];
    if (b === undefined) {
      throw malformed(`VP8 payload descriptor truncated: ${what} expected at byte ${offset} of ${payload.length}`);
    }
    offset++;
    return b;
  };
  const b0 = need("first descriptor octet");
  const d: Vp8Descriptor = {
    size: 0,
    nonReference: (b0 & 0x20) !== 0,
    start: (b0 & 0x10) !== 0,
    partitionId: b0 & 0x07,
  };
  // R bits are ignored, as §4.2 tells receivers to.
  if (b0 & 0x80) {
    const x = need("X extension octet (I L T K)");
    const hasI = (x & 0x80) !== 0;
    const hasL = (x & 0x40) !== 0;
    const hasT = (x & 0x20) !== 0;
    const hasK = (x & 0x10) !== 0;
    if (hasI) {
      const p0 = need("picture ID");
      if (p0 & 0x80) {
        d.pictureId = ((p0 & 0x7f) << 8) | need("second octet of the 15-bit picture ID (M=1)");
        d.pictureIdBits = 15;
      } else {
        d.pictureId = p0;
        d.pictureIdBits = 7;
      }
    }
    if (hasL) d.tl0PicIdx = need("TL0PICIDX (L=1)");
    // §4.2: one octet carries TID/Y and KEYIDX; it is present when either T or K is set.
    if (hasT || hasK) {
      const tk = need("TID/Y/KEYIDX octet (T or K set)");
      if (hasT) {
        d.temporalId = tk >> 6;
        d.layerSync = (tk & 0x20) !== 0;
      }
      if (hasK) d.keyIdx = tk & 0x1f;
    }
  }
  d.size = offset;
  return d;
}

/**
 * Joins the RTP payloads of one frame (in sequence order) back into the VP8 frame.
 * The first payload must start the frame (S=1, PID=0); a later one doing so means two frames were
 * mixed. Throws EncoderError RTP_MALFORMED on any inconsistency.
 */
export function depacketizeVp8(payloads: readonly Uint8Array[]): Vp8Frame {
  if (payloads.length === 0) throw malformed("no VP8 payloads to depacketize");
  const parts: Uint8Array[] = [];
  let total = 0;
  let pictureId: number | undefined;
  let keyframe = false;
  payloads.forEach((payload, i) => {
    const d = parseVp8Descriptor(payload);
    const data = payload.subarray(d.size);
    const frameStart = d.start && d.partitionId === 0;
    if (i === 0) {
      if (!frameStart) {
        throw malformed(
          `VP8 frame does not start with S=1 PID=0 (got S=${d.start ? 1 : 0} PID=${d.partitionId}): its first packet is missing`,
        );
      }
      // §4.3: the VP8 payload header is present in the packet with S=1 and PID=0.
      if (data.length === 0) throw malformed("VP8 first packet has a descriptor but no payload header byte");
      keyframe = isVp8KeyframeByte(data[0]!);
      pictureId = d.pictureId;
    } else {
      if (frameStart) throw malformed(`VP8 payload ${i} starts a new frame (S=1 PID=0) in the middle of a frame`);
      if (d.pictureId !== pictureId) {
        throw malformed(`VP8 picture ID changes inside a frame: ${pictureId} then ${d.pictureId} at payload ${i}`);
      }
    }
    parts.push(data);
    total += data.length;
  });
  const frame = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    frame.set(p, offset);
    offset += p.length;
  }
  const result: Vp8Frame = { frame, keyframe };
  if (pictureId !== undefined) result.pictureId = pictureId;
  return result;
}

/** True when the payload carries the start of a VP8 frame (S=1, PID=0), without throwing on junk. */
export function isVp8FrameStart(payload: Uint8Array): boolean {
  try {
    const d = parseVp8Descriptor(payload);
    return d.start && d.partitionId === 0;
  } catch {
    return false;
  }
}
