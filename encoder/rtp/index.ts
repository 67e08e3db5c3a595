/** RTP packetization for the video uplink: RTP header (RFC 3550), VP8 (RFC 7741), H.264 (RFC 6184). */
export { type RtpPacket, RTP_HEADER_SIZE, parseRtp, rtpPacketSize, seqAdd, seqDiff, serializeRtp } from "./packet.ts";
export {
  DEFAULT_RTP_MTU,
  type Vp8Descriptor,
  type Vp8Frame,
  type Vp8PacketizeOptions,
  depacketizeVp8,
  isVp8FrameStart,
  packetizeVp8,
  parseVp8Descriptor,
} from "./vp8.ts";
export {
  type H264PacketizeOptions,
  NAL_TYPE,
  depacketizeH264,
  isH264Keyframe,
  isH264PayloadStart,
  joinAnnexB,
  nalType,
  packetizeH264,
  splitAnnexB,
} from "./h264.ts";
export {
  type AssemblyResult,
  type FrameTime,
  FrameAssembler,
  RtpPacketizer,
  type RtpPacketizerOptions,
  type RtpVideoCodec,
  VIDEO_CLOCK_RATE,
} from "./packetizer.ts";
