/**
 * IVF framing for feeding ffmpeg frame by frame (the container libvpx's tools write): a 32-byte
 * file header, then per frame a 12-byte header with the frame size and a 64-bit pts, little endian.
 * ffmpeg's IVF demuxer maps the fourcc through its BMP tag table, so "H264" carries Annex B access
 * units as well as "VP80" carries VP8 frames.
 *
 * Also the parser for ffmpeg's `showinfo` log lines, which tell which input pts each output frame
 * came from.
 */
import type { RtpVideoCodec } from "../../encoder/rtp/index.ts";

/** Time base of the pts we write: 1/1000 s, one tick per frame index (only the order matters). */
const IVF_TIMEBASE_DEN = 1000;

export function ivfFileHeader(codec: RtpVideoCodec, width: number, height: number): Uint8Array {
  const h = new Uint8Array(32);
  const dv = new DataView(h.buffer);
  h.set([0x44, 0x4b, 0x49, 0x46], 0); // "DKIF"
  dv.setUint16(4, 0, true); // version
  dv.setUint16(6, 32, true); // header length
  h.set(new TextEncoder().encode(codec === "vp8" ? "VP80" : "H264"), 8);
  dv.setUint16(12, width, true);
  dv.setUint16(14, height, true);
  dv.setUint32(16, IVF_TIMEBASE_DEN, true); // time base denominator (rate)
  dv.setUint32(20, 1, true); // time base numerator (scale)
  dv.setUint32(24, 0, true); // frame count: unknown for a live stream
  return h;
}

export function ivfFrameHeader(size: number, pts: number): Uint8Array {
  const h = new Uint8Array(12);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, size, true);
  dv.setBigUint64(4, BigInt(pts), true);
  return h;
}

const SHOWINFO = /Parsed_showinfo_\d+ @ [^\]]*\]\s*n:\s*\d+\s+pts:\s*(-?\d+)/;

/** The pts of a showinfo frame line ("[Parsed_showinfo_0 @ 0x..] n:   3 pts:      3 ..."), else undefined. */
export function parseShowinfoPts(line: string): number | undefined {
  const m = SHOWINFO.exec(line);
  return m ? Number(m[1]) : undefined;
}
