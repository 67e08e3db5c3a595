/**
 * Does an RTP payload begin a new frame? Used by the jitter buffer when it does not know where the
 * next frame starts (the stream's first frame, or after a loss that took the previous frame's
 * marker packet), so the first packet must be recognised from its payload.
 *
 * VP8 (RFC 7741 §4.2): S=1 with PID 0 marks the first packet of a frame, exactly once: "sure".
 *
 * H.264 needs more care than `isH264PayloadStart` (which accepts any single NAL unit). An access
 * unit begins with an AUD, SEI, SPS, PPS or prefix NAL unit, or with the first slice of a picture,
 * a slice whose first_mb_in_slice is 0 (ITU-T H.264 §7.4.1.2.3; first_mb_in_slice is the first
 * ue(v) of the slice header, and ue(v) 0 is the single bit "1", so the byte after the NAL header
 * has its top bit set). Which of those really comes first varies:
 *  - "sure": AUD or SPS (nothing precedes them in practice), and a non-IDR first slice (delta
 *    frames from x264 and libwebrtc carry nothing before their slice);
 *  - "maybe": PPS, SEI, prefix NAL units, and an IDR first slice: encoders (x264, libwebrtc) put
 *    SPS/PPS (and x264 an SEI) before an IDR, so the real first packet may still be on its way;
 *  - "no": a later slice of a multi-slice picture (x264 sliced threads), an FU-A continuation, junk.
 */
import { isVp8FrameStart, NAL_TYPE, type RtpVideoCodec } from "../../encoder/rtp/index.ts";

export type StartConfidence = "sure" | "maybe" | "no";

function h264NalStart(nalHeader: number, firstPayloadByte: number | undefined): StartConfidence {
  const type = nalHeader & 0x1f;
  if (type === NAL_TYPE.slice || type === NAL_TYPE.idr) {
    if (firstPayloadByte === undefined || (firstPayloadByte & 0x80) === 0) return "no";
    return type === NAL_TYPE.slice ? "sure" : "maybe";
  }
  if (type === NAL_TYPE.aud || type === NAL_TYPE.sps) return "sure";
  if (type === NAL_TYPE.sei || type === NAL_TYPE.pps || (type >= 14 && type <= 18)) return "maybe";
  return "no";
}

export function h264PayloadStart(payload: Uint8Array): StartConfidence {
  if (payload.length === 0) return "no";
  const type = payload[0]! & 0x1f;
  if (type === NAL_TYPE.stapA) {
    // RFC 6184 §5.7.1: STAP-A header, 16-bit size, then the first aggregated NAL unit.
    return payload.length > 3 ? h264NalStart(payload[3]!, payload[4]) : "no";
  }
  if (type === NAL_TYPE.fuA) {
    // RFC 6184 §5.8: only the fragment with S=1 can open anything; the FU header keeps the type.
    if (payload.length < 2 || (payload[1]! & 0x80) === 0) return "no";
    return h264NalStart(payload[1]!, payload[2]);
  }
  return h264NalStart(payload[0]!, payload[1]);
}

export function frameStartConfidence(codec: RtpVideoCodec, payload: Uint8Array): StartConfidence {
  if (codec === "vp8") return isVp8FrameStart(payload) ? "sure" : "no";
  return h264PayloadStart(payload);
}
