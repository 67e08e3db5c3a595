/**
 * The sizes of the pieces `total` bytes are cut into, at most `room` bytes each, as few as can be
 * and as equal as can be (they differ by at most one byte, the larger first). libwebrtc fragments
 * frames this way (modules/rtp_rtcp/source/rtp_format.cc, RtpPacketizer::SplitAboutEqually)
 * rather than into full packets and a short last one; here it matters for the per-frame FEC as
 * well: every parity packet is as long as the frame's longest packet (encoder/rtp/frame-fec.ts),
 * so a 1300-byte frame cut 1198 + 102 costs parity of 1198 bytes a packet, cut 649 + 651 of 651.
 */
export function splitAboutEqually(total: number, room: number): number[] {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`splitAboutEqually: total must be an integer >= 0, got ${total}`);
  if (!Number.isInteger(room) || room < 1) throw new RangeError(`splitAboutEqually: room must be an integer >= 1, got ${room}`);
  if (total === 0) return [];
  const n = Math.ceil(total / room);
  const base = Math.floor(total / n);
  const extra = total % n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}
