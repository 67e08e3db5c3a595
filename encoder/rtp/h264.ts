/**
 * H.264 RTP payload format, RFC 6184, non-interleaved mode (packetization-mode=1, §6.3).
 *
 * Sending: consecutive NAL units of the access unit that fit the MTU together go out in one STAP-A
 * (§5.7.1), as libwebrtc does (modules/rtp_rtcp/source/rtp_packetizer_h264.cc): SPS and PPS ride
 * with each other (and with the IDR slice when it is small) instead of costing a packet each, and
 * every packet is one more chance of losing the keyframe. A NAL unit that fits alone goes as a
 * single NAL unit packet (§5.6), a larger one as FU-A fragments (§5.8). Every NAL unit is sent,
 * access unit delimiters (type 9) included: they are legal, cost a few bytes a frame, and keep
 * round trips exact.
 *
 * Receiving: single NAL unit packets, STAP-A (§5.7.1) and FU-A. The interleaved-mode types
 * (STAP-B, MTAP16/24, FU-B) and reserved types (0, 30, 31) are refused.
 *
 * Pure module (no Node imports): the browser client can reuse it.
 */
import { EncoderError } from "../errors.ts";
import { DEFAULT_RTP_MTU } from "./vp8.ts";
import { splitAboutEqually } from "./split.ts";

export const NAL_TYPE = {
  slice: 1,
  idr: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  aud: 9,
  stapA: 24,
  stapB: 25,
  mtap16: 26,
  mtap24: 27,
  fuA: 28,
  fuB: 29,
} as const;

export interface H264PacketizeOptions {
  /** Largest RTP payload in bytes. Default 1200. Must be at least 3 (FU indicator + FU header + 1). */
  mtu?: number;
}

const START_CODE = new Uint8Array([0, 0, 0, 1]);

function malformed(message: string): EncoderError {
  return new EncoderError("RTP_MALFORMED", message);
}

/** nal_unit_type, the low 5 bits of the NAL header (RFC 6184 §1.3). */
export function nalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/**
 * NAL units of an Annex B byte stream (H.264 Annex B.2), as views into `stream`. Accepts 3- and
 * 4-byte start codes. Zero bytes before a start code are trailing_zero_8bits / the zero_byte of a
 * 4-byte start code, not NAL data (a NAL unit never ends in 0x00), so they are dropped. Empty NAL
 * units (two start codes in a row) are skipped. Throws when data precedes the first start code.
 */
export function splitAnnexB(stream: Uint8Array): Uint8Array[] {
  const starts: number[] = []; // index of the first byte after each start code
  const ends: number[] = []; // index of the first 0x00 of each start code
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i + 2]! > 1) {
      i += 2; // no start code can begin at i, i+1 or i+2 when byte i+2 is above 1
      continue;
    }
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      ends.push(i);
      starts.push(i + 3);
      i += 2;
    }
  }
  if (starts.length === 0) {
    if (stream.some((b) => b !== 0)) throw malformed("H.264 Annex B stream has no start code (00 00 01)");
    return [];
  }
  for (let i = 0; i < ends[0]!; i++) {
    if (stream[i] !== 0) throw malformed(`H.264 Annex B stream has data before its first start code (byte ${i})`);
  }
  const nals: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    const begin = starts[k]!;
    let end = k + 1 < starts.length ? ends[k + 1]! : stream.length;
    while (end > begin && stream[end - 1] === 0) end--;
    if (end > begin) nals.push(stream.subarray(begin, end));
  }
  return nals;
}

/** Annex B byte stream of the given NAL units, each behind a 4-byte start code. */
export function joinAnnexB(nals: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const n of nals) total += START_CODE.length + n.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const n of nals) {
    if (n.length === 0) throw malformed("cannot write an empty NAL unit to an Annex B stream");
    out.set(START_CODE, offset);
    out.set(n, offset + START_CODE.length);
    offset += START_CODE.length + n.length;
  }
  return out;
}

/** True when the access unit (Annex B) holds an IDR slice (nal_unit_type 5). */
export function isH264Keyframe(accessUnit: Uint8Array): boolean {
  return splitAnnexB(accessUnit).some((n) => nalType(n) === NAL_TYPE.idr);
}

/** STAP-A header byte plus one 16-bit size field per NAL unit (RFC 6184 §5.7.1, Figure 7). */
const STAP_A_HEADER = 1;
const STAP_A_SIZE_FIELD = 2;

/**
 * §5.7.1: the STAP-A header. "The value of NRI MUST be the maximum of all the NAL units carried in
 * the aggregation packet"; F is 1 when any of them has F set (§5.3: F=1 means it may hold errors).
 */
function stapA(nals: readonly Uint8Array[]): Uint8Array {
  let size = STAP_A_HEADER;
  for (const n of nals) size += STAP_A_SIZE_FIELD + n.length;
  const out = new Uint8Array(size);
  let f = 0;
  let nri = 0;
  let offset = STAP_A_HEADER;
  for (const n of nals) {
    f |= n[0]! & 0x80;
    nri = Math.max(nri, n[0]! & 0x60);
    out[offset] = n.length >> 8;
    out[offset + 1] = n.length & 0xff;
    out.set(n, offset + STAP_A_SIZE_FIELD);
    offset += STAP_A_SIZE_FIELD + n.length;
  }
  out[0] = f | nri | NAL_TYPE.stapA;
  return out;
}

/**
 * Splits one access unit (Annex B) into RTP payloads of at most `mtu` bytes: STAP-A (§5.7.1) for
 * runs of NAL units that fit one packet together, single NAL unit packets (§5.6) for one that fits
 * alone, FU-A fragments (§5.8) for the rest. NAL units keep their order, so the depacketized access
 * unit is the same. An access unit without NAL units throws: sent as zero packets it would have no
 * packet to carry the RTP marker.
 */
export function packetizeH264(accessUnit: Uint8Array, opts: H264PacketizeOptions = {}): Uint8Array[] {
  const mtu = opts.mtu ?? DEFAULT_RTP_MTU;
  if (!Number.isInteger(mtu) || mtu < 3) {
    throw new EncoderError("INVALID_OPTION", `H.264 mtu must be an integer of at least 3, got ${mtu}`);
  }
  const nals = splitAnnexB(accessUnit);
  if (nals.length === 0) throw malformed("cannot packetize an H.264 access unit with no NAL units");
  const payloads: Uint8Array[] = [];
  // NAL units waiting to go out together, and the size of the STAP-A that would carry them.
  let run: Uint8Array[] = [];
  let runBytes = STAP_A_HEADER;
  const flush = (): void => {
    // §5.6: alone, the payload is the NAL unit itself, header included; a STAP-A of one would only
    // add 3 bytes.
    if (run.length === 1) payloads.push(run[0]!.slice());
    else if (run.length > 1) payloads.push(stapA(run));
    run = [];
    runBytes = STAP_A_HEADER;
  };
  for (const nal of nals) {
    const type = nalType(nal);
    // Types 0 and 24..31 are unspecified in H.264 and mean aggregation/fragmentation in RTP;
    // sending one as a single NAL unit packet would be misread by the receiver (§5.2).
    if (type === 0 || type >= NAL_TYPE.stapA) {
      throw malformed(`H.264 NAL unit type ${type} cannot be sent in RTP (unspecified in H.264, reserved by RFC 6184)`);
    }
    if (nal.length <= mtu) {
      const added = STAP_A_SIZE_FIELD + nal.length;
      // A STAP-A kept under 64 KiB cannot hold a NAL unit too long for its 16-bit size field.
      if (run.length > 0 && runBytes + added > Math.min(mtu, 0xffff)) flush();
      run.push(nal);
      runBytes += added;
      continue;
    }
    flush();
    // §5.8: the FU indicator keeps F and NRI of the NAL header with type 28; the FU header keeps
    // the original type. The NAL header byte itself is not sent, it is rebuilt from these two.
    const indicator = (nal[0]! & 0xe0) | NAL_TYPE.fuA;
    // Fragments about equal in size (split.ts), not full ones and a short last one.
    let offset = 1;
    for (const size of splitAboutEqually(nal.length - 1, mtu - 2)) {
      const end = offset + size;
      const out = new Uint8Array(2 + end - offset);
      out[0] = indicator;
      out[1] = (offset === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type; // S, E, R=0
      out.set(nal.subarray(offset, end), 2);
      payloads.push(out);
      offset = end;
    }
  }
  flush();
  return payloads;
}

/**
 * Turns the RTP payloads of one access unit (in sequence order) back into an Annex B byte stream
 * with 4-byte start codes. Throws EncoderError RTP_MALFORMED on types it cannot carry, truncated
 * STAP-A, or FU-A fragments out of order (no start, no end, start twice).
 */
export function depacketizeH264(payloads: readonly Uint8Array[]): Uint8Array {
  if (payloads.length === 0) throw malformed("no H.264 payloads to depacketize");
  const nals: Uint8Array[] = [];
  let fu: { header: number; parts: Uint8Array[]; size: number } | undefined;

  payloads.forEach((payload, i) => {
    if (payload.length === 0) throw malformed(`H.264 payload ${i} is empty`);
    const type = nalType(payload);
    if (fu && type !== NAL_TYPE.fuA) {
      throw malformed(`H.264 payload ${i} (type ${type}) arrives before the FU-A fragmented NAL unit ended (no E bit)`);
    }
    if (type >= 1 && type <= 23) {
      nals.push(payload); // §5.6 single NAL unit packet
    } else if (type === NAL_TYPE.stapA) {
      // §5.7.1: STAP-A header, then (16-bit size, NAL unit) pairs up to the end of the payload.
      let offset = 1;
      let count = 0;
      while (offset < payload.length) {
        if (offset + 2 > payload.length) {
          throw malformed(`H.264 STAP-A in payload ${i} is truncated: NAL unit size field cut at byte ${offset}`);
        }
        const size = (payload[offset]! << 8) | payload[offset + 1]!;
        offset += 2;
        if (size === 0) throw malformed(`H.264 STAP-A in payload ${i} holds a zero-length NAL unit`);
        if (offset + size > payload.length) {
          throw malformed(
            `H.264 STAP-A in payload ${i}: NAL unit size ${size} runs past the payload (${payload.length - offset} bytes left)`,
          );
        }
        nals.push(payload.subarray(offset, offset + size));
        offset += size;
        count++;
      }
      if (count === 0) throw malformed(`H.264 STAP-A in payload ${i} carries no NAL unit`);
    } else if (type === NAL_TYPE.fuA) {
      if (payload.length < 2) throw malformed(`H.264 FU-A in payload ${i} has no FU header`);
      const fuHeader = payload[1]!;
      const start = (fuHeader & 0x80) !== 0;
      const end = (fuHeader & 0x40) !== 0;
      const innerType = fuHeader & 0x1f;
      // §5.8: "the Start bit and End bit MUST NOT both be set to 1 in the same FU header".
      if (start && end) throw malformed(`H.264 FU-A in payload ${i} has both S and E set`);
      if (innerType === 0 || innerType >= NAL_TYPE.stapA) {
        throw malformed(`H.264 FU-A in payload ${i} fragments NAL unit type ${innerType}, which is not allowed`);
      }
      const data = payload.subarray(2);
      if (start) {
        if (fu) throw malformed(`H.264 FU-A start in payload ${i} while the previous fragmented NAL unit has no end`);
        // Rebuild the NAL header from F and NRI of the FU indicator and the type of the FU header.
        fu = { header: (payload[0]! & 0xe0) | innerType, parts: [data], size: data.length };
      } else {
        if (!fu) throw malformed(`H.264 FU-A in payload ${i} continues a fragmented NAL unit whose start (S bit) is missing`);
        if (innerType !== (fu.header & 0x1f)) {
          throw malformed(`H.264 FU-A in payload ${i} changes NAL unit type mid-fragment: ${fu.header & 0x1f} then ${innerType}`);
        }
        fu.parts.push(data);
        fu.size += data.length;
      }
      if (end) {
        const nal = new Uint8Array(1 + fu.size);
        nal[0] = fu.header;
        let offset = 1;
        for (const p of fu.parts) {
          nal.set(p, offset);
          offset += p.length;
        }
        nals.push(nal);
        fu = undefined;
      }
    } else if (type === NAL_TYPE.stapB || type === NAL_TYPE.mtap16 || type === NAL_TYPE.mtap24 || type === NAL_TYPE.fuB) {
      throw malformed(`H.264 payload ${i} has type ${type}, which needs interleaved mode (packetization-mode=2); not supported`);
    } else {
      throw malformed(`H.264 payload ${i} has reserved NAL unit type ${type} (RFC 6184 §5.2)`);
    }
  });
  if (fu) throw malformed("H.264 FU-A fragmented NAL unit ends without its last fragment (E bit)");
  return joinAnnexB(nals);
}

/**
 * True when the payload can begin an access unit: anything but an FU-A continuation. Used by the
 * frame assembler to notice a lost first packet; it cannot notice a lost leading single-NAL packet.
 */
export function isH264PayloadStart(payload: Uint8Array): boolean {
  if (payload.length === 0) return false;
  if (nalType(payload) !== NAL_TYPE.fuA) return true;
  return payload.length >= 2 && (payload[1]! & 0x80) !== 0;
}
