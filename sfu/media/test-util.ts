/** Synthetic RTP streams for the receive-path unit tests (seeded, no clock, no Math.random). */
import { type RtpPacket, RtpPacketizer, type RtpVideoCodec } from "../../encoder/rtp/index.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";

export interface TestFrame {
  readonly index: number;
  readonly keyframe: boolean;
  readonly rtpTimestamp: number;
  readonly data: Uint8Array;
  readonly packets: RtpPacket[];
}

/** One synthetic frame's payload: VP8 with the P bit set right (RFC 7741 §4.3), or an H.264 access unit. */
function frameData(codec: RtpVideoCodec, keyframe: boolean, size: number, rand: () => number): Uint8Array {
  const body = Uint8Array.from({ length: size }, () => 1 + Math.floor(rand() * 250)); // no zero bytes: no start codes
  if (codec === "vp8") {
    body[0] = keyframe ? 0x10 : 0x11;
    return body;
  }
  // SPS, PPS and an IDR slice, or one non-IDR slice; first_mb_in_slice = 0 (top bit of byte 1).
  const slice = keyframe ? [0x65, 0x88] : [0x41, 0x9a];
  const nals = keyframe ? [[0x67, 0x42, 0xc0, 0x1f], [0x68, 0xce, 0x3c, 0x80], [...slice, ...body]] : [[...slice, ...body]];
  return Uint8Array.from(nals.flatMap((n) => [0, 0, 0, 1, ...n]));
}

/**
 * `count` frames at 30 fps (the RTP timestamp wraps past 2^32 at frame 11), keyframes where `isKey(i)`, each split into several packets (mtu 200,
 * frames of 300..900 bytes unless `frameBytes(i)` says otherwise), sequence numbers starting at `firstSeq`.
 */
export function makeStream(
  codec: RtpVideoCodec,
  count: number,
  opts: { firstSeq?: number; isKey?: (i: number) => boolean; seed?: number; ssrc?: number; frameBytes?: (i: number) => number | undefined } = {},
): TestFrame[] {
  const rand = mulberry32(opts.seed ?? 1);
  const isKey = opts.isKey ?? ((i) => i === 0);
  const packetizer = new RtpPacketizer({
    codec, ssrc: opts.ssrc ?? 0x11223344, payloadType: 96, initialSequenceNumber: opts.firstSeq ?? 1000, initialTimestamp: 0xffff_8000, mtu: 200,
  });
  return Array.from({ length: count }, (_, index) => {
    const keyframe = isKey(index);
    // The random size is drawn either way: resizing a frame leaves the frames before it as they were.
    const size = 300 + Math.floor(rand() * 600);
    const data = frameData(codec, keyframe, opts.frameBytes?.(index) ?? size, rand);
    const packets = packetizer.packetizeFrame(data, { timestampMs: (index * 1000) / 30 });
    return { index, keyframe, rtpTimestamp: packets[0]!.timestamp, data, packets };
  });
}

export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rand = mulberry32(seed);
  const out = [...items];
  for (let k = out.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [out[k], out[j]] = [out[j]!, out[k]!];
  }
  return out;
}

/** The L1T3 pattern libwebrtc's VP8 encoder uses (default_temporal_layers.cc): TIDs 0, 2, 1, 2, with the first TID 2 and the TID 1 frame layer syncs. */
const L1T3 = [{ tid: 0, sync: false }, { tid: 2, sync: true }, { tid: 1, sync: true }, { tid: 2, sync: false }] as const;

/**
 * VP8 frames with temporal layers as Chromium sends them with `scalabilityMode: "L1T3"`: every
 * packet's payload descriptor (RFC 7741 §4.2) carries X, a 15-bit picture ID, TL0PICIDX and
 * TID/Y; frame 0 is a keyframe; 300-500 byte frames in packets of at most 120 bytes of data.
 */
export function makeLayeredVp8Stream(count: number, opts: { firstSeq?: number; seed?: number } = {}): Array<TestFrame & { tid: number; sync: boolean; tl0: number }> {
  const rand = mulberry32(opts.seed ?? 3);
  let seq = opts.firstSeq ?? 5000;
  let tl0 = 0;
  return Array.from({ length: count }, (_, index) => {
    const { tid, sync } = L1T3[index % 4]!;
    if (tid === 0 && index > 0) tl0 = (tl0 + 1) & 0xff;
    const keyframe = index === 0;
    const data = frameData("vp8", keyframe, 300 + Math.floor(rand() * 200), rand);
    const timestamp = (index * 3000) >>> 0;
    const packets: RtpPacket[] = [];
    for (let off = 0; off < data.length; off += 120) {
      const chunk = data.subarray(off, Math.min(off + 120, data.length));
      const descriptor = [0x80 | (off === 0 ? 0x10 : 0), 0xe0, 0x80 | ((index >> 8) & 0x7f), index & 0xff, tl0, (tid << 6) | (sync ? 0x20 : 0)];
      packets.push({
        marker: off + 120 >= data.length, payloadType: 96, sequenceNumber: seq++ & 0xffff, timestamp, ssrc: 0x55667788,
        payload: Uint8Array.from([...descriptor, ...chunk]),
      });
    }
    return { index, keyframe, rtpTimestamp: timestamp, data, packets, tid, sync, tl0 };
  });
}
