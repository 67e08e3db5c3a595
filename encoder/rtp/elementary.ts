/**
 * Elementary streams into frames, as encoders write them: H.264 Annex B into access units
 * (ITU-T H.264 §7.4.1.2.3: a new access unit begins at an AUD, SPS, PPS or SEI that follows a
 * picture's slices, or at a slice with first_mb_in_slice = 0), and VP8 in IVF into frames.
 *
 * Pure: no Node imports.
 */
import { EncoderError } from "../errors.ts";
import { joinAnnexB, splitAnnexB } from "./h264.ts";

/** True for a coded slice whose first_mb_in_slice (the first ue(v) after the header) is 0. */
function startsPicture(nal: Uint8Array): boolean {
  const type = nal[0]! & 0x1f;
  return (type === 1 || type === 5) && nal.length > 1 && (nal[1]! & 0x80) !== 0;
}

export function splitH264AccessUnits(stream: Uint8Array): Uint8Array[] {
  const units: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let sawSlice = false;
  for (const nal of splitAnnexB(stream)) {
    const type = nal[0]! & 0x1f;
    const isVcl = type >= 1 && type <= 5;
    const beginsUnit = (isVcl && startsPicture(nal) && sawSlice) || (!isVcl && [6, 7, 8, 9].includes(type) && sawSlice);
    if (beginsUnit) {
      units.push(current);
      current = [];
      sawSlice = false;
    }
    current.push(nal);
    if (isVcl) sawSlice = true;
  }
  if (current.length > 0) units.push(current);
  return units.map((u) => joinAnnexB(u));
}

/** Frames of an IVF file (32-byte header with its own length field, then 12-byte frame headers). */
export function readIvfFrames(buf: Uint8Array): { width: number; height: number; frames: Uint8Array[] } {
  if (buf.length < 32 || buf[0] !== 0x44 || buf[1] !== 0x4b || buf[2] !== 0x49 || buf[3] !== 0x46) {
    throw new EncoderError("INPUT_CORRUPT", "not an IVF file: it does not start with DKIF");
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = dv.getUint16(6, true);
  const frames: Uint8Array[] = [];
  let off = headerLen;
  while (off + 12 <= buf.length) {
    const size = dv.getUint32(off, true);
    if (off + 12 + size > buf.length) {
      throw new EncoderError("INPUT_CORRUPT", `IVF frame ${frames.length} claims ${size} bytes but only ${buf.length - off - 12} remain`);
    }
    frames.push(buf.subarray(off + 12, off + 12 + size));
    off += 12 + size;
  }
  return { width: dv.getUint16(12, true), height: dv.getUint16(14, true), frames };
}
