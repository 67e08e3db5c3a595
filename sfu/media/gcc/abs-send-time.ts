/**
 * The abs-send-time RTP header extension (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time):
 * the sender's clock when the packet left, 24 bits of 6.18 fixed-point seconds, wrapping every
 * 64 s. GCC's receiver side needs send times on one line (draft-ietf-rmcat-gcc-02 §5.1), so this
 * unwraps them: a step of more than half the range backwards is a wrap forwards, and the other way
 * round for a reordered packet from before a wrap. Pure.
 */
const RANGE = 1 << 24;
const HALF = RANGE / 2;
const MS_PER_UNIT = 1000 / (1 << 18);

export class AbsSendTimeUnwrapper {
  private last: number | null = null;

  /** The 24-bit field as sent; returns milliseconds on the sender's unwrapped clock, or null for a value that is not a 24-bit integer. */
  unwrapMs(raw: number): number | null {
    if (!Number.isInteger(raw) || raw < 0 || raw >= RANGE) return null;
    if (this.last === null) {
      this.last = raw;
      return raw * MS_PER_UNIT;
    }
    const lastWrapped = ((this.last % RANGE) + RANGE) % RANGE;
    let diff = raw - lastWrapped;
    if (diff < -HALF) diff += RANGE;
    else if (diff > HALF) diff -= RANGE;
    const value = this.last + diff;
    // Only a newer packet moves the reference, so one reordered packet cannot shift the line.
    if (diff > 0) this.last = value;
    return value * MS_PER_UNIT;
  }
}

export const ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";

/** The 3-byte abs-send-time payload for a send at `nowMs` (any steady clock: only differences count). */
export function absSendTimeBytes(nowMs: number): Buffer {
  const units = Math.floor((nowMs / 1000) * (1 << 18)) % RANGE;
  const b = Buffer.alloc(3);
  b.writeUIntBE(units < 0 ? units + RANGE : units, 0, 3);
  return b;
}

/** The extension id an SDP (an answer) gives abs-send-time, or null when it is not negotiated. */
export function absSendTimeId(sdp: string): number | null {
  for (const m of sdp.matchAll(/^a=extmap:(\d+)(?:\/\w+)? (\S+)/gm)) {
    if (m[2] === ABS_SEND_TIME_URI) {
      const id = Number(m[1]);
      // One-byte header extensions (RFC 8285 §4.2) carry ids 1-14, which is what werift writes.
      return id >= 1 && id <= 14 ? id : null;
    }
  }
  return null;
}
