/**
 * One clip through one network condition under one receive policy, packet by packet, in virtual
 * time (no real waiting; the same inputs give the same outputs):
 *
 *   sender (encoded frames, RTP packetizer, pacer, retransmission history)
 *     -> uplink LinkEmulator (loss, drop-tail queue, trace or fixed rate, delay)
 *     -> real JitterBuffer with the policy (+ NACK retries for classic, nack-requester.ts)
 *     <- downlink LinkEmulator (RTCP NACK and PLI, delay only)
 *
 * Grew out of a model bench (fake frame sizes, a modelled link) that it replaced: the link is the
 * link emulator, the frames the encoder's real frames (`FrameSource`).
 *
 * Sender model (libwebrtc's, simplified):
 *  - frame i is captured at i / fps and handed to the pacer `encodeDelayMs` later;
 *  - the pacer sends at `pacingBps` (libwebrtc paces at 2.5x the target rate: modules/pacing,
 *    kDefaultPaceMultiplier), retransmissions first (they have priority there as well);
 *  - a NACKed packet still in the history is resent at once (no RTX stream: same sequence number);
 *  - a PLI (RFC 4585 §6.3.1) makes the next captured frame a keyframe, if the source honours it.
 *
 * With a rate loop (rate-loop.ts), the sender's bitrate follows the receiver's estimate as a live
 * call's does: the receiver runs GCC on every packet's send and arrival time and the loss it sees,
 * REMB comes back over the downlink, the sender's cap follows it and the encoder restarts at the
 * new rate (a keyframe), the pacer paces at its factor times the cap. The loop is warmed up
 * before the clip with padding at the cap for `warmupMs`; frame times in the result stay relative
 * to the clip's first capture. With a congestion window on the sender (rate-loop.ts `SenderRate`),
 * every packet carries a transport-wide sequence number, the receiver reports the highest it has
 * seen every 50 ms (transport-wide CC feedback, reduced to what the window needs), and a frame
 * captured while the window is full is not encoded (`FrameSource.skip`; counted in
 * `framesSkipped`, absent from `frames`).
 *
 * The only awaits are the frame source's (it may encode a segment on demand).
 */
import type { ReceiverRate, SenderRate } from "./rate-loop.ts";
import { FrameFecReceiver, FrameFecSender } from "../../encoder/rtp/frame-fec.ts";
import { NAL_TYPE, nalType, type RtpPacket, RtpPacketizer, rtpPacketSize, type RtpVideoCodec, splitAnnexB } from "../../encoder/rtp/index.ts";
import { LinkEmulator } from "../../sfu/link/index.ts";
import { JitterBuffer, type JitterCounters, type JitterOutput } from "../../sfu/media/jitter-buffer.ts";
import type { PlayoutTiming } from "../../sfu/media/playout-timing.ts";
import type { ReceivePolicy } from "../../sfu/media/receive-policy.ts";
import type { NetworkConditionSpec } from "./conditions.ts";
import { NackRequester } from "./nack-requester.ts";
import { FEEDBACK_INTERVAL_MS } from "../../sfu/media/gcc/transport-feedback.ts";

export interface EncodedFrame {
  /** H.264 Annex B access unit or VP8 frame. */
  readonly data: Uint8Array;
  readonly keyframe: boolean;
}

/** The sender's encoder, seen from the simulation. */
export interface FrameSource {
  readonly codec: RtpVideoCodec;
  readonly fps: number;
  readonly frameCount: number;
  /**
   * Frame `index` as the encoder produces it. `keyframeRequested`: a PLI arrived since the previous
   * frame; a source that sends every frame as a keyframe may ignore it. `bitrateBps`: the encoder's
   * rate from this frame on (a change restarts it); absent, the rate it has.
   */
  frame(index: number, keyframeRequested: boolean, bitrateBps?: number): Promise<EncodedFrame>;
  /**
   * The sender drops frame `index` before the encoder (its congestion window is full); the next
   * frame is encoded from the one before it. Absent: the sender never drops frames.
   */
  skip?(index: number): Promise<void>;
}

export interface SimulationOptions {
  readonly source: FrameSource;
  readonly condition: NetworkConditionSpec;
  readonly policy: ReceivePolicy;
  /** The jitter buffer's cap on waiting for an incomplete frame after its newest packet. */
  readonly maxWaitMs: number;
  /**
   * A WebRTC receiver's playout timing (classic, as libwebrtc hands frames to its sink): a
   * decodable frame is available at the timing's render slot, not when it is complete. Absent: at
   * once (the AI path).
   */
  readonly playout?: { readonly timing: PlayoutTiming; readonly rttMs: number };
  /** NACK retries (classic); null: only the policy's own NACKs. */
  readonly nackRetries: { readonly intervalMs: number; readonly maxRetries: number } | null;
  readonly seed: number;
  /** Where in a trace the run starts (ms into the trace); ignored by fixed-rate links. Default 0. */
  readonly traceOffsetMs?: number;
  readonly pacingBps: number;
  /** From capture until the frame's packets reach the pacer. */
  readonly encodeDelayMs: number;
  /** IPv4 + UDP header bytes added to every RTP packet on the link. Default 28. */
  readonly overheadBytes?: number;
  /**
   * Per-frame forward error correction (encoder/rtp/frame-fec.ts): the sender adds
   * `parityFor(k)` Reed-Solomon parity packets after each frame's k media packets, on their own
   * SSRC; the receiver rebuilds lost media packets from any k of the k + m before its jitter
   * buffer. Absent: no FEC.
   */
  readonly fec?: { readonly parityFor: (k: number) => number };
  /**
   * The sender's rate follows the receiver's estimate (rate-loop.ts); `pacingFactor` times the
   * sender's cap replaces `pacingBps`. Absent: a fixed rate.
   */
  readonly rateLoop?: { readonly receiver: ReceiverRate; readonly sender: SenderRate; readonly warmupMs: number; readonly pacingFactor: number };
  /** Sees every uplink send and delivery (for debugging a run; not needed for the figures). */
  readonly onPacket?: (e: { kind: "sent" | "dropped" | "delivered"; seq: number; ts: number; atMs: number; retransmission: boolean }) => void;
}

export interface FrameRecord {
  readonly index: number;
  readonly captureMs: number;
  readonly sizeBytes: number;
  readonly keyframe: boolean;
  /** Released by the jitter buffer decodable: available to the decoder and the model. */
  availableMs: number | null;
  /** refused: released as decodable but the decoder could not use it (an IDR whose SPS/PPS was lost). */
  fate: "decodable" | "undecodable" | "refused" | "lost" | "never-seen";
  recovered: boolean;
}

export interface DecodableFrame {
  readonly index: number;
  readonly releasedMs: number;
  readonly data: Uint8Array;
}

export interface SimulationCounters {
  readonly packetsSent: number;
  readonly retransmissions: number;
  readonly nackMessages: number;
  readonly nackRetries: number;
  readonly plis: number;
  readonly keyframesSent: number;
  readonly uplinkLost: number;
  readonly uplinkQueueDropped: number;
  readonly mediaBytes: number;
  /** FEC parity packets sent, media packets FEC rebuilt, frames it repaired. */
  readonly parityPackets: number;
  readonly fecRecoveredPackets: number;
  readonly fecRepairedFrames: number;
  /**
   * Frames given up (or never released) although every packet of theirs reached the receiver:
   * the receive path, not the link, lost them (for instance a deadline shorter than the pacing).
   */
  readonly framesLostWhole: number;
  /** Frames the decoder refused (H.264 without its parameter sets, or after such a frame until a keyframe). */
  readonly framesRefused: number;
  /** Everything the sender put on the uplink during the clip (media, parity, retransmissions; RTP and IP/UDP headers), bits per second. */
  readonly uplinkKbps: number;
  /** The sender's cap over the clip (mean, kbps; null without a rate loop) and the REMBs it got. */
  readonly meanCapKbps: number | null;
  readonly rembs: number;
  /** Frames the sender did not encode because its congestion window was full. */
  readonly framesSkipped: number;
  readonly jitter: JitterCounters;
}

export interface SimulationResult {
  readonly frames: FrameRecord[];
  /** In release (= decode) order. */
  readonly decodable: DecodableFrame[];
  readonly counters: SimulationCounters;
  readonly endMs: number;
}

type Rtcp = { readonly kind: "nack"; readonly seqs: number[] } | { readonly kind: "pli" } | { readonly kind: "remb"; readonly bps: number }
  | { readonly kind: "feedback"; readonly highestSeq: number; readonly packets: number };

/** What crosses the uplink: the packet and when the sender sent it (abs-send-time). */
interface OnLink {
  readonly packet: RtpPacket;
  readonly sentMs: number;
  /** Transport-wide sequence number (one counter over media, parity, retransmissions, padding). */
  readonly transportSeq: number;
}

interface Queued {
  readonly packet: RtpPacket;
  readonly readyMs: number;
  readonly retransmission: boolean;
}

export async function simulate(o: SimulationOptions): Promise<SimulationResult> {
  const { source, condition, policy } = o;
  const overhead = o.overheadBytes ?? 28;
  if (!(o.pacingBps > 0)) throw new RangeError(`pacingBps must be > 0, got ${o.pacingBps}`);
  if (!(o.encodeDelayMs >= 0)) throw new RangeError(`encodeDelayMs must be >= 0, got ${o.encodeDelayMs}`);
  const loop = o.rateLoop ?? null;
  // The clip starts at `warm` on the simulation's clock; the trace is at the clip's offset then
  // (one period earlier when the warm-up would reach before the trace's start: it repeats).
  const warm = loop ? loop.warmupMs : 0;
  const offset = o.traceOffsetMs ?? 0;
  const period = condition.uplink.rate.kind === "trace" ? condition.uplink.rate.trace.periodMs : 0;
  const uplink = new LinkEmulator<OnLink>(condition.uplink, { seed: o.seed, field: "uplink", startMs: warm - offset - (offset < warm ? period * Math.ceil((warm - offset) / Math.max(1, period)) : 0) });
  const downlink = new LinkEmulator<Rtcp>(condition.downlink, { seed: (o.seed + 1) >>> 0, field: "downlink" });
  const jb = new JitterBuffer({ codec: source.codec, policy, maxWaitMs: o.maxWaitMs });
  const nacks = o.nackRetries && policy.retransmissions
    ? new NackRequester({ retryIntervalMs: o.nackRetries.intervalMs, maxRetries: o.nackRetries.maxRetries })
    : null;
  const packetizer = new RtpPacketizer({ codec: source.codec, ssrc: 0x1234, payloadType: 102, initialSequenceNumber: 1000, initialTimestamp: 0 });

  const FEC_SSRC = 0x5678;
  const fecSender = o.fec ? new FrameFecSender({ ssrc: FEC_SSRC, payloadType: 118, initialSequenceNumber: 2000 }) : null;
  const fecReceiver = o.fec ? new FrameFecReceiver() : null;
  let parityPackets = 0;
  const frames: FrameRecord[] = [];
  const byTimestamp = new Map<number, FrameRecord>();
  const packetsOf = new Map<number, number>();
  const deliveredOf = new Map<number, Set<number>>();
  const decodable: DecodableFrame[] = [];
  let lastAvailableMs = -Infinity;
  const history = new Map<number, RtpPacket>();
  const pacer: Queued[] = [];
  const queuedRetx = new Set<number>();
  let pacerFreeMs = 0;
  let pliPending = false;
  let nextCapture = 0;
  let jbIgnoreUpTo = -Infinity;
  const c = { packetsSent: 0, retransmissions: 0, nackMessages: 0, plis: 0, keyframesSent: 0, mediaBytes: 0 };
  const captureMs = (i: number) => warm + (i * 1000) / source.fps;
  const PAD_SSRC = 0x9abc;
  let padSeq = 0;
  let nextPadMs = loop ? 0 : Infinity;
  let rembs = 0;
  let capSumKbps = 0;
  let capFrames = 0;
  let clipUplinkBytes = 0;
  let linkAtStart: { packetsLost: number; packetsQueueDropped: number } = { packetsLost: 0, packetsQueueDropped: 0 };
  let nextCountsMs = loop ? 1000 : Infinity;
  const pacingBps = () => (loop ? loop.pacingFactor * loop.sender.cap.capBps : o.pacingBps);
  let transportSeq = 0;
  let highestSeen = -1;
  let feedbackPackets = 0;
  let lastFeedbackMs = -Infinity;
  let framesSkipped = 0;
  const window = loop?.sender.window ?? null;
  const sendUplink = (size: number, nowMs: number, packet: RtpPacket, lossFree = false) => {
    const seq = transportSeq++;
    window?.onSent(seq, size, nowMs);
    return uplink.send(size, nowMs, { packet, sentMs: nowMs, transportSeq: seq }, lossFree ? { lossFree: true } : undefined);
  };
  // Transport feedback (the congestion window's only input): the highest transport sequence
  // number seen, at most every FEEDBACK_INTERVAL_MS while packets arrive.
  const feedback = (nowMs: number) => {
    // The same sum as the event time below (now - last < interval can differ from it in the last bit, and spin).
    if (!window || feedbackPackets === 0 || nowMs < lastFeedbackMs + FEEDBACK_INTERVAL_MS) return;
    sendRtcp({ kind: "feedback", highestSeq: highestSeen, packets: feedbackPackets }, nowMs);
    feedbackPackets = 0;
    lastFeedbackMs = nowMs;
  };

  const sendRtcp = (m: Rtcp, nowMs: number) => {
    // RTCP feedback: 12-byte common header + sender/media SSRC, 4 bytes per NACK FCI (RFC 4585 §6.2.1).
    // REMB (draft-alvestrand-rmcat-remb-03): 12 + 8 bytes of header and FCI plus one SSRC.
    // Transport feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): 20 bytes of
    // header and base fields, about 2 bytes per packet reported (status chunk plus delta).
    const size = 12 + (m.kind === "nack" ? 4 * m.seqs.length : m.kind === "remb" ? 12 : m.kind === "feedback" ? 8 + 2 * m.packets : 0) + overhead;
    downlink.send(size, nowMs, m);
  };

  // The decoder's view: the jitter buffer checks that a frame's packets are all there and that its
  // references arrived, not that an H.264 IDR carries the SPS and PPS it needs. When the first
  // packets of the stream (the parameter sets) are lost, no gap reveals them and no NACK asks for
  // them; the decoder refuses the IDR, and the receive path asks for a keyframe
  // (JitterBuffer.requestKeyframe), as a real receiver's decoder error does.
  const params = { sps: false, pps: false };
  let decoderBroken = false;
  let refused = 0;
  const decoderAccepts = (data: Uint8Array, keyframe: boolean): boolean => {
    if (source.codec === "h264") {
      for (const nal of splitAnnexB(data)) {
        const t = nalType(nal);
        if (t === NAL_TYPE.sps) params.sps = true;
        else if (t === NAL_TYPE.pps) params.pps = true;
      }
      if (!params.sps || !params.pps) return false;
    }
    if (keyframe) decoderBroken = false;
    return !decoderBroken;
  };

  const handle = (out: JitterOutput, nowMs: number): void => {
    if (out.nack.length > 0) {
      nacks?.nacked(out.nack, nowMs);
      sendRtcp({ kind: "nack", seqs: [...out.nack] }, nowMs);
      c.nackMessages++;
    }
    if (out.needKeyframe) {
      sendRtcp({ kind: "pli" }, nowMs);
      c.plis++;
    }
    for (const l of out.lost) {
      nacks?.forget(l.missing);
      const f = l.rtpTimestamp === undefined ? undefined : byTimestamp.get(l.rtpTimestamp);
      if (f && f.fate === "never-seen") f.fate = "lost";
    }
    for (const r of out.frames) {
      const f = byTimestamp.get(r.rtpTimestamp);
      if (r.keyframe) nacks?.clearBefore(r.firstSequenceNumber);
      if (!f) continue;
      f.recovered = r.recovered;
      if (r.decodable && !decoderAccepts(r.data, r.keyframe)) {
        f.fate = "refused";
        refused++;
        if (!decoderBroken) {
          decoderBroken = true;
          handle(jb.requestKeyframe(nowMs), nowMs);
        }
      } else if (r.decodable) {
        f.fate = "decodable";
        // Frames decode in order, so none is handed on before the one decoded before it.
        const at = o.playout ? Math.max(lastAvailableMs, o.playout.timing.frame(f.captureMs, nowMs, r.recovered, o.playout.rttMs).availableMs) : nowMs;
        lastAvailableMs = at;
        f.availableMs = at - warm;
        decodable.push({ index: f.index, releasedMs: at - warm, data: r.data });
      } else f.fate = "undecodable";
    }
  };

  let now = 0;
  for (;;) {
    const tCap = nextCapture < source.frameCount ? captureMs(nextCapture) : Infinity;
    const tPace = pacer.length > 0 ? Math.max(pacerFreeMs, pacer[0]!.readyMs, now) : Infinity;
    const tUp = uplink.nextEventMs() ?? Infinity;
    const tDown = downlink.nextEventMs() ?? Infinity;
    const d = jb.nextDeadlineMs();
    const tJb = d !== undefined && d > jbIgnoreUpTo ? Math.max(d, now) : Infinity;
    const tNack = nacks ? Math.max(nacks.nextDueMs() ?? Infinity, now) : Infinity;
    // Padding only while warming up; receiver reports once a second while anything is under way.
    const tPad = nextPadMs < warm ? Math.max(nextPadMs, pacerFreeMs) : Infinity;
    const tFb = window && feedbackPackets > 0 ? Math.max(lastFeedbackMs + FEEDBACK_INTERVAL_MS, now) : Infinity;
    const busy = Math.min(tCap, tPace, tUp, tDown, tJb, tNack, tPad, tFb);
    const tCounts = busy < Infinity ? nextCountsMs : Infinity;
    const t = Math.min(busy, tCounts);
    if (t === Infinity) break;
    now = t;

    // 1. RTCP reaches the sender.
    for (const p of downlink.poll(now)) {
      const m = p.payload!;
      if (m.kind === "pli") pliPending = true;
      else if (m.kind === "feedback") window?.onFeedback(m.highestSeq, now);
      else if (m.kind === "remb") {
        rembs++;
        loop?.sender.onRemb(m.bps);
      } else {
        for (const seq of m.seqs) {
          const packet = history.get(seq);
          if (!packet || queuedRetx.has(seq)) continue;
          queuedRetx.add(seq);
          // Retransmissions go ahead of media in the pacer queue, in the order asked.
          let at = 0;
          while (at < pacer.length && pacer[at]!.retransmission) at++;
          pacer.splice(at, 0, { packet, readyMs: now, retransmission: true });
        }
      }
    }
    // 2. Capture: the encoder makes the frame, the packetizer splits it.
    while (nextCapture < source.frameCount && captureMs(nextCapture) <= now) {
      const i = nextCapture++;
      // Link counters from the clip's first capture on: the warm-up's padding is not the clip's.
      if (i === 0) linkAtStart = uplink.counters();
      // The congestion window is full: the frame never reaches the encoder (a keyframe request
      // waits for the next frame that does).
      if (loop && source.skip && !loop.sender.admitsFrame(condition.rttMs, now)) {
        await source.skip(i);
        framesSkipped++;
        continue;
      }
      const frame = loop
        ? await source.frame(i, pliPending, loop.sender.encoderBitrate(now))
        : await source.frame(i, pliPending);
      if (loop) {
        capSumKbps += loop.sender.cap.capBps / 1000;
        capFrames++;
      }
      pliPending = false;
      if (frame.keyframe) c.keyframesSent++;
      const packets = packetizer.packetizeFrame(frame.data, { timestampMs: captureMs(i) });
      const rec: FrameRecord = {
        index: i, captureMs: captureMs(i) - warm, sizeBytes: frame.data.length, keyframe: frame.keyframe,
        availableMs: null, fate: "never-seen", recovered: false,
      };
      frames.push(rec);
      byTimestamp.set(packets[0]!.timestamp, rec);
      packetsOf.set(packets[0]!.timestamp, packets.length);
      for (const p of packets) {
        history.set(p.sequenceNumber, p);
        pacer.push({ packet: p, readyMs: captureMs(i) + o.encodeDelayMs, retransmission: false });
      }
      if (fecSender && o.fec) {
        // Parity goes after the frame's media, so a frame that loses nothing is complete as early as without FEC.
        for (const p of fecSender.protect(packets, o.fec.parityFor(packets.length))) {
          parityPackets++;
          pacer.push({ packet: p, readyMs: captureMs(i) + o.encodeDelayMs, retransmission: false });
        }
      }
    }
    // 3. The pacer sends what its budget allows by now.
    while (pacer.length > 0 && Math.max(pacerFreeMs, pacer[0]!.readyMs) <= now) {
      const q = pacer.shift()!;
      if (q.retransmission) {
        queuedRetx.delete(q.packet.sequenceNumber);
        c.retransmissions++;
      } else if (!fecSender || q.packet.ssrc !== FEC_SSRC) c.mediaBytes += q.packet.payload.length;
      const size = rtpPacketSize(q.packet) + overhead;
      const fate = sendUplink(size, now, q.packet);
      if (now >= warm) clipUplinkBytes += size;
      o.onPacket?.({ kind: fate.accepted ? "sent" : "dropped", seq: q.packet.sequenceNumber, ts: q.packet.timestamp, atMs: now, retransmission: q.retransmission });
      c.packetsSent++;
      pacerFreeMs = now + (size * 8 * 1000) / pacingBps();
    }
    // 3b. Warm-up padding at the cap (its own SSRC; the receiver only times it).
    if (loop && nextPadMs < warm && Math.max(nextPadMs, pacerFreeMs) <= now) {
      const pad: RtpPacket = { marker: false, payloadType: 127, sequenceNumber: padSeq++ & 0xffff, timestamp: 0, ssrc: PAD_SSRC, payload: new Uint8Array(1172) };
      const size = rtpPacketSize(pad) + overhead;
      // Loss-free: the padding must not use up the loss draws the clip's packets get, so a gcc
      // run and a fixed one see the same random loss (common random numbers).
      sendUplink(size, now, pad, true);
      pacerFreeMs = now + (size * 8 * 1000) / pacingBps();
      nextPadMs = now + (size * 8 * 1000) / loop.sender.cap.capBps;
    }
    // 4. Packets reach the receiver.
    for (const p of uplink.poll(now)) {
      const { packet, sentMs, transportSeq: tseq } = p.payload!;
      if (window) {
        highestSeen = Math.max(highestSeen, tseq);
        feedbackPackets++;
      }
      if (loop) {
        loop.receiver.onPacket(sentMs, p.deliveryMs, p.sizeBytes, condition.rttMs);
        const bps = loop.receiver.remb(p.deliveryMs);
        if (bps !== null) sendRtcp({ kind: "remb", bps }, p.deliveryMs);
      }
      if (packet.ssrc === PAD_SSRC) continue;
      if (fecReceiver && packet.ssrc === FEC_SSRC) {
        for (const r of fecReceiver.parity(packet)) handle(jb.push(r, p.deliveryMs), p.deliveryMs);
        continue;
      }
      nacks?.received(packet.sequenceNumber);
      const got = deliveredOf.get(packet.timestamp) ?? new Set<number>();
      got.add(packet.sequenceNumber);
      deliveredOf.set(packet.timestamp, got);
      o.onPacket?.({ kind: "delivered", seq: packet.sequenceNumber, ts: packet.timestamp, atMs: p.deliveryMs, retransmission: false });
      handle(jb.push(packet, p.deliveryMs), p.deliveryMs);
      if (fecReceiver) for (const r of fecReceiver.media(packet)) handle(jb.push(r, p.deliveryMs), p.deliveryMs);
    }
    feedback(now);
    // 5. Frame deadlines and held-back keyframe requests.
    if (d !== undefined && d <= now) {
      handle(jb.poll(now), now);
      const after = jb.nextDeadlineMs();
      // A deadline the poll did not move would spin the loop: leave it to the next event.
      if (after !== undefined && after <= now) jbIgnoreUpTo = now;
    }
    // 5b. Receiver reports: the loss the receiver saw goes to the loss-based estimate.
    if (loop && now >= nextCountsMs) {
      const k = uplink.counters();
      loop.receiver.onCounts(k.packetsLost + k.packetsQueueDropped, k.packetsDelivered, now);
      const bps = loop.receiver.remb(now);
      if (bps !== null) sendRtcp({ kind: "remb", bps }, now);
      nextCountsMs = now + 1000;
    }
    // 6. NACK retries.
    if (nacks) {
      const again = nacks.due(now);
      if (again.length > 0) {
        sendRtcp({ kind: "nack", seqs: again }, now);
        c.nackMessages++;
      }
    }
  }
  const up = uplink.counters();
  let framesLostWhole = 0;
  for (const [ts, f] of byTimestamp) {
    if ((f.fate === "lost" || f.fate === "never-seen") && deliveredOf.get(ts)?.size === packetsOf.get(ts)) framesLostWhole++;
  }
  const clipMs = Math.max(1, now - warm);
  return {
    frames,
    decodable,
    endMs: now - warm,
    counters: {
      uplinkKbps: Math.round((clipUplinkBytes * 8) / clipMs), meanCapKbps: loop ? Math.round(capSumKbps / Math.max(1, capFrames)) : null, rembs, framesSkipped,
      ...c, parityPackets, fecRecoveredPackets: fecReceiver?.counters.packetsRecovered ?? 0, fecRepairedFrames: fecReceiver?.counters.framesRepaired ?? 0, framesLostWhole, framesRefused: refused, nackRetries: nacks?.retriesSent ?? 0, uplinkLost: up.packetsLost - linkAtStart.packetsLost, uplinkQueueDropped: up.packetsQueueDropped - linkAtStart.packetsQueueDropped, jitter: jb.counters,
    },
  };
}
