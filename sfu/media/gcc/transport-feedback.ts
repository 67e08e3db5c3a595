/**
 * Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01,
 * §3.1): RTCP transport-layer feedback, FMT 15, that tells the sender which of its packets
 * (numbered by one transport-wide 16-bit counter in an RTP header extension, §2) arrived, and when.
 * Chromium runs its own send-side GCC and congestion window on it; the headless publisher uses it
 * for its congestion window (congestion-window.ts).
 *
 * werift 0.24 has a receiver for it, but it does not survive the counter's wrap (it walks from the
 * smallest to the largest number seen, 65536 statuses across a wrap) and sends only after 11
 * packets: the call server builds its own with this and keeps werift's from starting.
 *
 *  0                   1                   2                   3
 * |V=2|P|  FMT=15 |    PT=205     |           length              |
 * |                     SSRC of packet sender                     |
 * |                      SSRC of media source                     |
 * |      base sequence number     |      packet status count      |
 * |                 reference time                | fb pkt. count |
 * |          packet chunk         |         packet chunk          |  ...
 * |         recv delta            |  recv delta   | ...  (padding)
 *
 * Chunks: run length (T=0, 2-bit status, 13-bit length) or status vector (T=1, S=1: seven 2-bit
 * symbols; S=0: fourteen 1-bit symbols). Status 0 not received, 1 received with a 1-byte delta,
 * 2 received with a 2-byte signed delta, 3 reserved. Deltas count 250 us; the first is from the
 * reference time (24-bit signed, 64 ms units), each next from the packet before it.
 *
 * Pure: arrival times are arguments.
 */

export const TRANSPORT_CC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/**
 * How often a receiver here sends transport-wide feedback while packets arrive (libwebrtc's
 * receiver sends it every 50-250 ms, by rate). The call server, the network bench's simulation and
 * the congestion window's span (one interval) all use this one value.
 */
export const FEEDBACK_INTERVAL_MS = 50;

/** RTCP transport-layer feedback (RFC 4585 §6.1) and this draft's FMT. */
const RTPFB = 205;
const FMT_TRANSPORT_CC = 15;
const TICKS_PER_MS = 4;
const REFERENCE_UNIT_MS = 64;
const MAX_RUN = 0x1fff;

export class TransportFeedbackError extends Error {
  constructor(readonly field: string, message: string) {
    super(`transport feedback: ${field}: ${message}`);
    this.name = "TransportFeedbackError";
  }
}

export interface TransportFeedback {
  readonly senderSsrc: number;
  readonly mediaSsrc: number;
  readonly baseSeq: number;
  readonly fbCount: number;
  /** Reference time in ms (a multiple of 64, from the 24-bit field; signed). */
  readonly referenceTimeMs: number;
  /** One entry per reported sequence number, in order; arrivalMs on the reference time's clock, null when not received. */
  readonly packets: ReadonlyArray<{ readonly seq: number; readonly arrivalMs: number | null }>;
}

/** The highest sequence number a feedback reports (received or not), 16 bits. */
export function lastReportedSeq(f: Pick<TransportFeedback, "baseSeq" | "packets">): number {
  return (f.baseSeq + f.packets.length - 1) & 0xffff;
}

export function parseTransportFeedback(buf: Uint8Array): TransportFeedback {
  if (buf.length < 20) throw new TransportFeedbackError("length", `${buf.length} bytes, the fixed part alone is 20`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf[0]! >> 6 !== 2) throw new TransportFeedbackError("version", `RTCP version ${buf[0]! >> 6}, expected 2`);
  if ((buf[0]! & 0x1f) !== FMT_TRANSPORT_CC || buf[1] !== RTPFB) throw new TransportFeedbackError("type", `PT ${buf[1]} FMT ${buf[0]! & 0x1f}, expected 205/15`);
  const total = (v.getUint16(2) + 1) * 4;
  if (total > buf.length) throw new TransportFeedbackError("length", `header says ${total} bytes, ${buf.length} given`);
  let end = total;
  if (buf[0]! & 0x20) {
    const pad = buf[total - 1]!;
    if (pad === 0 || pad > total - 20) throw new TransportFeedbackError("padding", `padding count ${pad} does not fit`);
    end -= pad;
  }
  const count = v.getUint16(14);
  if (count === 0) throw new TransportFeedbackError("packetStatusCount", "0 packets reported");
  let ref = (buf[16]! << 16) | (buf[17]! << 8) | buf[18]!;
  if (ref & 0x800000) ref -= 0x1000000;
  const statuses: number[] = [];
  let at = 20;
  while (statuses.length < count) {
    if (at + 2 > end) throw new TransportFeedbackError("chunks", `${statuses.length} of ${count} statuses before the data ended`);
    const c = v.getUint16(at);
    at += 2;
    if (!(c & 0x8000)) {
      const status = (c >> 13) & 3;
      const run = c & MAX_RUN;
      if (run === 0) throw new TransportFeedbackError("chunks", "a run length chunk of length 0");
      for (let k = 0; k < run && statuses.length < count; k++) statuses.push(status);
    } else if (c & 0x4000) {
      for (let k = 0; k < 7 && statuses.length < count; k++) statuses.push((c >> (12 - 2 * k)) & 3);
    } else {
      for (let k = 0; k < 14 && statuses.length < count; k++) statuses.push((c >> (13 - k)) & 1);
    }
  }
  let ticks = ref * REFERENCE_UNIT_MS * TICKS_PER_MS;
  const packets: Array<{ seq: number; arrivalMs: number | null }> = [];
  const base = v.getUint16(12);
  for (const [k, s] of statuses.entries()) {
    const seq = (base + k) & 0xffff;
    if (s === 0) {
      packets.push({ seq, arrivalMs: null });
      continue;
    }
    if (s === 3) throw new TransportFeedbackError("chunks", `reserved status 3 for sequence number ${seq}`);
    const size = s === 1 ? 1 : 2;
    if (at + size > end) throw new TransportFeedbackError("deltas", `the delta of sequence number ${seq} is missing`);
    ticks += s === 1 ? buf[at]! : v.getInt16(at);
    at += size;
    packets.push({ seq, arrivalMs: ticks / TICKS_PER_MS });
  }
  return { senderSsrc: v.getUint32(4), mediaSsrc: v.getUint32(8), baseSeq: base, fbCount: buf[19]!, referenceTimeMs: ref * REFERENCE_UNIT_MS, packets };
}

/** One feedback packet for `statuses` (0/1/2) and `deltas` (ticks, one per received packet). */
function serialize(senderSsrc: number, mediaSsrc: number, baseSeq: number, ref: number, fbCount: number, statuses: readonly number[], deltas: readonly number[]): Uint8Array {
  const chunks: number[] = [];
  for (let i = 0; i < statuses.length;) {
    let run = 1;
    while (i + run < statuses.length && statuses[i + run] === statuses[i] && run < MAX_RUN) run++;
    if (run >= 7) {
      chunks.push((statuses[i]! << 13) | run);
      i += run;
    } else {
      let c = 0xc000;
      for (let k = 0; k < 7; k++) c |= (statuses[i + k] ?? 0) << (12 - 2 * k);
      chunks.push(c);
      i += 7;
    }
  }
  const deltaBytes = statuses.reduce((n, s) => n + (s === 1 ? 1 : s === 2 ? 2 : 0), 0);
  const unpadded = 20 + 2 * chunks.length + deltaBytes;
  const pad = (4 - (unpadded % 4)) % 4;
  const out = new Uint8Array(unpadded + pad);
  const v = new DataView(out.buffer);
  out[0] = 0x80 | (pad ? 0x20 : 0) | FMT_TRANSPORT_CC;
  out[1] = RTPFB;
  v.setUint16(2, out.length / 4 - 1);
  v.setUint32(4, senderSsrc >>> 0);
  v.setUint32(8, mediaSsrc >>> 0);
  v.setUint16(12, baseSeq & 0xffff);
  v.setUint16(14, statuses.length);
  out[16] = (ref >> 16) & 0xff;
  out[17] = (ref >> 8) & 0xff;
  out[18] = ref & 0xff;
  out[19] = fbCount & 0xff;
  let at = 20;
  for (const c of chunks) {
    v.setUint16(at, c);
    at += 2;
  }
  let d = 0;
  for (const s of statuses) {
    if (s === 1) out[at++] = deltas[d++]!;
    else if (s === 2) {
      v.setInt16(at, deltas[d++]!);
      at += 2;
    }
  }
  if (pad) out[out.length - 1] = pad;
  return out;
}

export interface TransportFeedbackBuilderOptions {
  /** Statuses per feedback packet at most; a larger gap moves the base up (the older ones go unreported). Default 1000. */
  readonly maxStatuses?: number;
}

/**
 * The receiver's side: packets in (16-bit transport sequence number, arrival time), feedback
 * packets out on each `build()` (the call server calls it every FEEDBACK_INTERVAL_MS). A packet older than the
 * last feedback's end (reordered past it) is left out: it was reported not received. Memory is
 * bounded by `maxStatuses` pending packets.
 */
export class TransportFeedbackBuilder {
  private readonly maxStatuses: number;
  private readonly pending = new Map<number, number>();
  private highest: number | null = null;
  private nextBase: number | null = null;
  private fbCount = 0;

  constructor(o: TransportFeedbackBuilderOptions = {}) {
    this.maxStatuses = o.maxStatuses ?? 1000;
    if (!Number.isInteger(this.maxStatuses) || this.maxStatuses < 1 || this.maxStatuses > MAX_RUN) throw new RangeError(`maxStatuses must be a whole number from 1 to ${MAX_RUN}, got ${this.maxStatuses}`);
  }

  onPacket(seq16: number, arrivalMs: number): void {
    if (!Number.isInteger(seq16) || seq16 < 0 || seq16 > 0xffff || !Number.isFinite(arrivalMs)) return;
    // Unwrap against the highest number seen (a step of less than half the range either way).
    let seq: number;
    if (this.highest === null) seq = seq16;
    else {
      const diff = ((seq16 - (this.highest & 0xffff) + 0x8000) & 0xffff) - 0x8000;
      seq = this.highest + diff;
    }
    this.nextBase ??= seq;
    if (seq < this.nextBase || this.pending.has(seq)) return;
    this.pending.set(seq, arrivalMs);
    if (this.highest === null || seq > this.highest) this.highest = seq;
    if (this.pending.size > this.maxStatuses) {
      // A flood between two builds: the oldest go unreported rather than memory growing.
      // (Every pending number is >= nextBase: walk up to the oldest.)
      while (!this.pending.has(this.nextBase)) this.nextBase++;
      this.pending.delete(this.nextBase++);
    }
  }

  /** Feedback for everything since the last build (none when nothing arrived): usually one packet, more when a gap in arrival times does not fit a delta. */
  build(senderSsrc: number, mediaSsrc: number): Uint8Array[] {
    if (this.pending.size === 0 || this.highest === null || this.nextBase === null) return [];
    const out: Uint8Array[] = [];
    let base = Math.max(this.nextBase, this.highest - this.maxStatuses + 1);
    while (base <= this.highest) {
      // The first received packet from base on sets the reference time.
      let first = base;
      while (!this.pending.has(first)) first++;
      const ref = Math.floor(this.pending.get(first)! / REFERENCE_UNIT_MS);
      let prev = ref * REFERENCE_UNIT_MS * TICKS_PER_MS;
      const statuses: number[] = [];
      const deltas: number[] = [];
      let seq = base;
      for (; seq <= this.highest && statuses.length < this.maxStatuses; seq++) {
        const arrival = this.pending.get(seq);
        if (arrival === undefined) {
          statuses.push(0);
          continue;
        }
        const t = Math.round(arrival * TICKS_PER_MS);
        const delta = t - prev;
        // A delta that does not fit 16 bits starts the next packet (at least one packet per packet).
        if ((delta < -0x8000 || delta > 0x7fff) && statuses.length > 0) break;
        const d = Math.max(-0x8000, Math.min(0x7fff, delta));
        statuses.push(d >= 0 && d <= 0xff ? 1 : 2);
        deltas.push(d);
        prev = t;
      }
      // Trailing "not received" statuses say nothing the next feedback will not: end at a received one.
      while (statuses.length > 0 && statuses[statuses.length - 1] === 0) {
        statuses.pop();
        seq--;
      }
      out.push(serialize(senderSsrc, mediaSsrc, base & 0xffff, ref & 0xffffff, this.fbCount++, statuses, deltas));
      base = seq;
      while (base <= this.highest && !this.pending.has(base)) base++;
    }
    this.pending.clear();
    this.nextBase = this.highest + 1;
    return out;
  }
}
