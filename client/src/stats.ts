/**
 * Live uplink figures from the browser's own WebRTC statistics (W3C webrtc-stats): the video
 * `outbound-rtp` entry gives what the encoder sent, the `remote-inbound-rtp` entry (built from the
 * receiver's RTCP receiver reports, RFC 3550 §6.4.2) gives what was lost and the round trip.
 *
 * Pure: takes the stats entries as plain objects, so it is unit-tested without a browser.
 */

/** One reading of the counters that matter, at `timestampMs` (the stats' own timestamp). */
export interface UplinkSample {
  readonly timestampMs: number;
  readonly bytesSent: number;
  readonly framesEncoded: number;
  readonly frameWidth: number | null;
  readonly frameHeight: number | null;
  /** Cumulative packets the receiver reported lost (RTCP RR), and packets sent. */
  readonly packetsLost: number | null;
  readonly packetsSent: number;
  readonly rttMs: number | null;
  /** Sum of the encoder's quantiser over the frames encoded (codec's own scale; VP8 0-127). */
  readonly qpSum: number | null;
  /** Why the encoder is holding back, as the browser says ("bandwidth", "cpu", "none"). */
  readonly qualityLimitation: string | null;
  /** The browser's own estimate of what the path carries (candidate-pair availableOutgoingBitrate), bits per second. */
  readonly availableOutgoingBps: number | null;
}

/** Figures between two samples. */
export interface UplinkRates {
  readonly bitrateBps: number;
  readonly framerate: number;
  /** Lost / (lost + received) over the interval; null until the receiver has reported. */
  readonly lossRatio: number | null;
  /** Mean quantiser of the frames encoded in the interval (null when none or not reported). */
  readonly meanQp: number | null;
}

type StatsEntry = { readonly type?: unknown; readonly kind?: unknown; readonly mediaType?: unknown; readonly [k: string]: unknown };

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * Picks the video sender's figures out of an RTCStatsReport's values. Returns null while there is
 * no video `outbound-rtp` entry yet (before the first frame is sent).
 */
export function uplinkSample(entries: Iterable<StatsEntry>): UplinkSample | null {
  let out: StatsEntry | null = null;
  let remote: StatsEntry | null = null;
  let available: number | null = null;
  for (const e of entries) {
    const video = e.kind === "video" || e.mediaType === "video";
    if (e.type === "candidate-pair" && e.nominated === true && num(e.availableOutgoingBitrate) !== null) available = num(e.availableOutgoingBitrate);
    if (e.type === "outbound-rtp" && video) {
      // With simulcast there are several; the one sending the most is the one that matters here.
      if (!out || (num(e.bytesSent) ?? 0) > (num(out.bytesSent) ?? 0)) out = e;
    } else if (e.type === "remote-inbound-rtp" && video) {
      remote = e;
    }
  }
  if (!out) return null;
  const rtt = remote ? num(remote.roundTripTime) : null;
  return {
    timestampMs: num(out.timestamp) ?? 0,
    bytesSent: num(out.bytesSent) ?? 0,
    framesEncoded: num(out.framesEncoded) ?? 0,
    frameWidth: num(out.frameWidth),
    frameHeight: num(out.frameHeight),
    packetsLost: remote ? num(remote.packetsLost) : null,
    packetsSent: num(out.packetsSent) ?? 0,
    rttMs: rtt === null ? null : rtt * 1000,
    qpSum: num(out.qpSum),
    qualityLimitation: typeof out.qualityLimitationReason === "string" ? out.qualityLimitationReason : null,
    availableOutgoingBps: available,
  };
}

/**
 * What holds the picture back, in plain words, or null when nothing does. The browser says
 * "bandwidth" whenever the encoder is kept under its bitrate, which is also the case when the
 * server's rate target is the cap and the path could carry more: then it is the server's target
 * (the AI asked for fewer bits), not the network.
 */
export function limitationText(qualityLimitation: string | null, availableOutgoingBps: number | null, targetBps: number | null): string | null {
  if (qualityLimitation === "cpu") return "limited by this device's processor";
  if (qualityLimitation !== "bandwidth") return null;
  if (targetBps !== null && availableOutgoingBps !== null && availableOutgoingBps >= 0.95 * targetBps) return "held to the server's target";
  return "limited by the network";
}

/** Rates between two samples of the same sender; null when the interval is empty or went backwards. */
export function uplinkRates(prev: UplinkSample, cur: UplinkSample): UplinkRates | null {
  const dtMs = cur.timestampMs - prev.timestampMs;
  if (!(dtMs > 0) || cur.bytesSent < prev.bytesSent) return null;
  let lossRatio: number | null = null;
  if (prev.packetsLost !== null && cur.packetsLost !== null) {
    const lost = Math.max(0, cur.packetsLost - prev.packetsLost);
    const sent = Math.max(0, cur.packetsSent - prev.packetsSent);
    lossRatio = sent > 0 ? Math.min(1, lost / sent) : 0;
  }
  const frames = cur.framesEncoded - prev.framesEncoded;
  const meanQp = prev.qpSum !== null && cur.qpSum !== null && frames > 0 ? (cur.qpSum - prev.qpSum) / frames : null;
  return {
    meanQp,
    bitrateBps: ((cur.bytesSent - prev.bytesSent) * 8 * 1000) / dtMs,
    framerate: (Math.max(0, cur.framesEncoded - prev.framesEncoded) * 1000) / dtMs,
    lossRatio,
  };
}

/** Median of the answer latencies seen so far (ms), null when there are none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** "612 kbps", "1.4 Mbps", "—" */
export function formatBitrate(bps: number | null): string {
  if (bps === null) return "—";
  if (bps >= 1_000_000) return `${(bps / 1_000_000).toFixed(1)} Mbps`;
  return `${Math.round(bps / 1000)} kbps`;
}
