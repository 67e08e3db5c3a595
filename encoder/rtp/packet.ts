/**
 * RTP fixed header, RFC 3550 §5.1, read and written with Uint8Array/DataView only (no Node Buffer)
 * so the browser client can reuse this module.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                           timestamp                           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           synchronization source (SSRC) identifier            |
 *  +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *  |            contributing source (CSRC) identifiers             |
 *  |                             ....                              |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { EncoderError } from "../errors.ts";

/** Bytes of the fixed header, before CSRCs and the header extension. */
export const RTP_HEADER_SIZE = 12;

export interface RtpPacket {
  marker: boolean;
  /** 7 bits. */
  payloadType: number;
  /** 16 bits; wraps from 65535 to 0. */
  sequenceNumber: number;
  /** 32 bits, unsigned. */
  timestamp: number;
  /** 32 bits, unsigned. */
  ssrc: number;
  /** Up to 15 contributing sources (RFC 3550 §5.1 CC field). */
  csrcs?: number[];
  /**
   * Header extension (RFC 3550 §5.3.1): the 16-bit profile word and the extension body, whose length
   * must be a multiple of 4. The body is kept as raw bytes, so RFC 8285 one-/two-byte elements and
   * their padding come back bit-exact; decoding the elements is left to whoever negotiated them.
   */
  extension?: { profile: number; data: Uint8Array };
  /**
   * Padding octets at the end of the packet, counting the final count octet itself (RFC 3550 §5.1
   * P bit), 1..255. 0 or absent means no padding. On serialize the padding is zeros followed by the
   * count; on parse only the count is kept.
   */
  padding?: number;
  payload: Uint8Array;
}

function malformed(message: string): EncoderError {
  return new EncoderError("RTP_MALFORMED", message);
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw malformed(`RTP ${name} must be an integer in 0..${max}, got ${value}`);
  }
}

/** Size of the serialized packet in bytes. */
export function rtpPacketSize(p: RtpPacket): number {
  const ext = p.extension ? 4 + p.extension.data.length : 0;
  return RTP_HEADER_SIZE + 4 * (p.csrcs?.length ?? 0) + ext + p.payload.length + (p.padding ?? 0);
}

/** Writes a packet to bytes. Throws EncoderError RTP_MALFORMED when a field does not fit its width. */
export function serializeRtp(p: RtpPacket): Uint8Array {
  checkUint("payloadType", p.payloadType, 0x7f);
  checkUint("sequenceNumber", p.sequenceNumber, 0xffff);
  checkUint("timestamp", p.timestamp, 0xffffffff);
  checkUint("ssrc", p.ssrc, 0xffffffff);
  const csrcs = p.csrcs ?? [];
  if (csrcs.length > 15) throw malformed(`RTP packet can carry at most 15 CSRCs (4-bit CC), got ${csrcs.length}`);
  for (const c of csrcs) checkUint("CSRC", c, 0xffffffff);
  const padding = p.padding ?? 0;
  checkUint("padding", padding, 0xff);
  if (p.extension) {
    checkUint("extension profile", p.extension.profile, 0xffff);
    // §5.3.1: the length field counts 32-bit words, so the body must be whole words.
    if (p.extension.data.length % 4 !== 0 || p.extension.data.length > 0xffff * 4) {
      throw malformed(
        `RTP header extension body must be a multiple of 4 bytes and at most ${0xffff * 4}, got ${p.extension.data.length}`,
      );
    }
  }

  const out = new Uint8Array(rtpPacketSize(p));
  const view = new DataView(out.buffer);
  out[0] = 0x80 | (padding > 0 ? 0x20 : 0) | (p.extension ? 0x10 : 0) | csrcs.length;
  out[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  view.setUint16(2, p.sequenceNumber);
  view.setUint32(4, p.timestamp);
  view.setUint32(8, p.ssrc);
  let offset = RTP_HEADER_SIZE;
  for (const c of csrcs) {
    view.setUint32(offset, c);
    offset += 4;
  }
  if (p.extension) {
    view.setUint16(offset, p.extension.profile);
    view.setUint16(offset + 2, p.extension.data.length / 4);
    out.set(p.extension.data, offset + 4);
    offset += 4 + p.extension.data.length;
  }
  out.set(p.payload, offset);
  // §5.1: the last padding octet holds the padding count, itself included. The rest stay zero.
  if (padding > 0) out[out.length - 1] = padding;
  return out;
}

/**
 * Reads a packet. Payload and extension body are copies, so the caller may reuse `buf`.
 * Throws EncoderError RTP_MALFORMED naming the first inconsistency found.
 */
export function parseRtp(buf: Uint8Array): RtpPacket {
  if (buf.length < RTP_HEADER_SIZE) {
    throw malformed(`RTP packet too short: ${buf.length} bytes, the fixed header alone needs ${RTP_HEADER_SIZE}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const b0 = buf[0]!;
  const version = b0 >> 6;
  if (version !== 2) throw malformed(`RTP version must be 2, got ${version}`);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  const b1 = buf[1]!;

  let offset = RTP_HEADER_SIZE;
  if (offset + 4 * cc > buf.length) {
    throw malformed(`RTP CSRC count ${cc} needs ${offset + 4 * cc} header bytes, but the packet has ${buf.length}`);
  }
  const csrcs: number[] = [];
  for (let i = 0; i < cc; i++) {
    csrcs.push(view.getUint32(offset));
    offset += 4;
  }

  let extension: RtpPacket["extension"];
  if (hasExtension) {
    if (offset + 4 > buf.length) {
      throw malformed(`RTP header extension header at byte ${offset} runs past the ${buf.length}-byte packet`);
    }
    const profile = view.getUint16(offset);
    const length = view.getUint16(offset + 2) * 4;
    offset += 4;
    if (offset + length > buf.length) {
      throw malformed(
        `RTP header extension length ${length} bytes runs past the packet: ${buf.length - offset} bytes left`,
      );
    }
    extension = { profile, data: buf.slice(offset, offset + length) };
    offset += length;
  }

  let end = buf.length;
  let padding: number | undefined;
  if (hasPadding) {
    // §5.1: the count includes the count octet itself, so 0 cannot be valid.
    padding = buf[buf.length - 1]!;
    if (padding === 0) throw malformed("RTP padding bit set but the padding count octet is 0");
    if (padding > buf.length - offset) {
      throw malformed(`RTP padding ${padding} bytes is larger than the ${buf.length - offset} bytes after the header`);
    }
    end -= padding;
  }

  const packet: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: buf.slice(offset, end),
  };
  if (cc > 0) packet.csrcs = csrcs;
  if (extension) packet.extension = extension;
  if (padding !== undefined) packet.padding = padding;
  return packet;
}

/** Signed distance from sequence number `a` to `b` in 16-bit modular arithmetic (RFC 3550 App. A.1). */
export function seqDiff(a: number, b: number): number {
  return ((((b - a) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** `seq + n` wrapped to 16 bits. */
export function seqAdd(seq: number, n: number): number {
  return (((seq + n) % 0x10000) + 0x10000) % 0x10000;
}
