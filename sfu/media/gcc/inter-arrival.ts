/**
 * Packet groups and their delay variation, the pre-filter of Google Congestion Control
 * (draft-ietf-rmcat-gcc-02 §5.2). Packets sent within `burstMs` (5 ms in the draft) of a group's
 * first packet form one group; a packet that arrives within `burstMs` of the group's last one and
 * whose delay variation is negative also joins it (a burst let out after a queue cleared). When a
 * group completes, the delta against the previous group is
 *
 *   d(i) = t(i) - t(i-1) - (T(i) - T(i-1))
 *
 * with t the arrival and T the send time of each group's last packet (§5.1).
 *
 * Outside input is not trusted here (the feedback or the header extension it comes from crosses
 * the network): a packet sent before the current group started is a reordered one and is left
 * out of the timing (it is still counted as received bytes by the caller); a duplicate falls in
 * its group and changes nothing; arrival time going backwards, or a delta that moves by more than
 * `resetMs` (a clock jump, or a packet held for seconds), starts the groups afresh rather than
 * feeding the filter a number no queue could produce (libwebrtc's inter_arrival.cc does the same
 * with its 3 s arrival-time offset threshold). Pure: times are parameters, in milliseconds.
 */
export interface GroupDelta {
  /** T(i) - T(i-1), ms. */
  readonly sendDeltaMs: number;
  /** t(i) - t(i-1), ms. */
  readonly arrivalDeltaMs: number;
  /** The completed group's arrival time (its last packet), ms. */
  readonly arrivalMs: number;
  readonly bytes: number;
}

export interface InterArrivalOptions {
  /** Packets sent within this of a group's first one form a group. Default 5 ms (§5.2). */
  readonly burstMs?: number;
  /** |d(i)| beyond this, or arrival time going back, resets the groups. Default 3000 ms. */
  readonly resetMs?: number;
}

interface Group {
  firstSendMs: number;
  lastSendMs: number;
  firstArrivalMs: number;
  lastArrivalMs: number;
  bytes: number;
}

export class InterArrival {
  private current: Group | null = null;
  private previous: Group | null = null;
  private readonly burstMs: number;
  private readonly resetMs: number;
  /** Groups started afresh because of a jump (for stats and tests). */
  resets = 0;

  constructor(o: InterArrivalOptions = {}) {
    this.burstMs = o.burstMs ?? 5;
    this.resetMs = o.resetMs ?? 3000;
  }

  /**
   * One packet's send and arrival time. Returns the delta of the group it completed, or null.
   * Non-finite times are ignored.
   */
  add(sendMs: number, arrivalMs: number, bytes: number): GroupDelta | null {
    if (!Number.isFinite(sendMs) || !Number.isFinite(arrivalMs) || !(bytes >= 0)) return null;
    const cur = this.current;
    if (cur === null) {
      this.current = { firstSendMs: sendMs, lastSendMs: sendMs, firstArrivalMs: arrivalMs, lastArrivalMs: arrivalMs, bytes };
      return null;
    }
    if (arrivalMs < cur.lastArrivalMs - this.resetMs) {
      this.restart(sendMs, arrivalMs, bytes);
      return null;
    }
    // Reordered: sent before this group began. Its timing says nothing about the queue now.
    if (sendMs < cur.firstSendMs) return null;
    if (this.belongsTo(cur, sendMs, arrivalMs)) {
      cur.lastSendMs = Math.max(cur.lastSendMs, sendMs);
      cur.lastArrivalMs = Math.max(cur.lastArrivalMs, arrivalMs);
      cur.bytes += bytes;
      return null;
    }
    // A new group begins; the current one is complete.
    let out: GroupDelta | null = null;
    const prev = this.previous;
    if (prev !== null) {
      const sendDeltaMs = cur.lastSendMs - prev.lastSendMs;
      const arrivalDeltaMs = cur.lastArrivalMs - prev.lastArrivalMs;
      if (arrivalDeltaMs < 0 || Math.abs(arrivalDeltaMs - sendDeltaMs) > this.resetMs) {
        this.restart(sendMs, arrivalMs, bytes);
        return null;
      }
      out = { sendDeltaMs, arrivalDeltaMs, arrivalMs: cur.lastArrivalMs, bytes: cur.bytes };
    }
    this.previous = cur;
    this.current = { firstSendMs: sendMs, lastSendMs: sendMs, firstArrivalMs: arrivalMs, lastArrivalMs: arrivalMs, bytes };
    return out;
  }

  private belongsTo(g: Group, sendMs: number, arrivalMs: number): boolean {
    if (sendMs - g.firstSendMs <= this.burstMs) return true;
    // A burst: arrived within burstMs of the group's last packet, and with less delay than it.
    const arrivalGap = arrivalMs - g.lastArrivalMs;
    const delayVariation = arrivalGap - (sendMs - g.lastSendMs);
    // A burst stays one group for at most 100 ms (libwebrtc's kMaxBurstDurationMs).
    return arrivalGap >= 0 && arrivalGap <= this.burstMs && delayVariation < 0 && arrivalMs - g.firstArrivalMs < 100;
  }

  /**
   * The next packets' arrival times cannot be compared with the ones before (the receiver could
   * not read its socket for a while, so the arrivals it saw are late by an unknown amount): the
   * groups start afresh with the next packet, without counting a reset (the clocks did not move).
   */
  interrupt(): void {
    this.previous = null;
    this.current = null;
  }

  private restart(sendMs: number, arrivalMs: number, bytes: number): void {
    this.resets++;
    this.previous = null;
    this.current = { firstSendMs: sendMs, lastSendMs: sendMs, firstArrivalMs: arrivalMs, lastArrivalMs: arrivalMs, bytes };
  }
}
