/**
 * `npx tsx sfu/media/bench-policies.ts`: classic against resilient on a modelled lossy uplink,
 * through the real jitter buffer, policies, frame-rate target and frame-delay accounting; prints
 * figures, asserts nothing.
 *
 * The model (a stand-in until the link emulator in sfu/link and DeViBench run the real encoder):
 *  - link: FIFO bottleneck at `linkBps`, one-way delay rtt/2, independent loss on every
 *    transmission, retransmissions included;
 *  - classic sender: 15 fps, keyframe every 10 s (5x a delta frame), resends what is NACKed (the
 *    NACK takes rtt/2 to arrive), answers a PLI with a keyframe 150 ms after it arrives (an
 *    encoder restart);
 *  - resilient sender: the frame-rate target's rate, every frame intra-only at bitrate / fps.
 * A frame is available when the jitter buffer releases it decodable; a lost or undecodable frame
 * counts until the next available one (frame-delay.ts), measured above the fastest frame.
 */
import { RtpPacketizer, type RtpPacket } from "../../encoder/rtp/index.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";
import { FrameDelay } from "./frame-delay.ts";
import { frameRateTarget } from "./frame-rate-target.ts";
import { JitterBuffer, type JitterOutput } from "./jitter-buffer.ts";
import { classicPolicy, resilientPolicy } from "./receive-policy.ts";
import { RtpTimeline } from "./stats-window.ts";

interface Scenario {
  readonly lossRate: number;
  readonly rttMs: number;
  readonly bitrateBps: number;
  readonly linkBps: number;
  readonly seconds: number;
  readonly seed: number;
}

type Ev =
  | { atMs: number; kind: "capture" }
  | { atMs: number; kind: "packet"; packet: RtpPacket }
  | { atMs: number; kind: "nack"; seqs: number[] }
  | { atMs: number; kind: "pli" };

function vp8Frame(bytes: number, keyframe: boolean): Uint8Array {
  const body = new Uint8Array(Math.max(2, Math.round(bytes))).fill(0x55);
  body[0] = keyframe ? 0x10 : 0x11;
  return body;
}

function run(policyName: "classic" | "resilient", s: Scenario, maxWaitMs: number) {
  const rand = mulberry32(s.seed);
  const policy = policyName === "classic" ? classicPolicy() : resilientPolicy();
  const jb = new JitterBuffer({ codec: "vp8", policy, maxWaitMs });
  const fps = policyName === "classic" ? 15 : frameRateTarget({ lossRate: s.lossRate, bitrateBps: s.bitrateBps, maxFps: 15 }).fps;
  const gop = policyName === "classic" ? 10 * fps : 1;
  const frameBits = s.bitrateBps / fps;
  const deltaBytes = gop === 1 ? frameBits / 8 : (frameBits / 8) * gop / (gop - 1 + 5);
  const packetizer = new RtpPacketizer({ codec: "vp8", ssrc: 1, payloadType: 96, initialSequenceNumber: 1, initialTimestamp: 0, mtu: 1200 });
  const sent = new Map<number, RtpPacket>();
  const events: Ev[] = [];
  const queue = (e: Ev) => {
    let i = events.length;
    while (i > 0 && events[i - 1]!.atMs > e.atMs) i--;
    events.splice(i, 0, e);
  };
  let linkFreeMs = 0;
  const transmit = (p: RtpPacket, atMs: number) => {
    const departMs = Math.max(atMs, linkFreeMs) + ((p.payload.length + 40) * 8 * 1000) / s.linkBps;
    linkFreeMs = departMs;
    if (rand() >= s.lossRate) queue({ atMs: departMs + s.rttMs / 2, kind: "packet", packet: p });
  };
  const delay = new FrameDelay(100_000);
  const timeline = new RtpTimeline();
  let keyframeDueMs: number | null = null;
  let frames = 0;
  let available = 0;
  const handle = (out: JitterOutput, nowMs: number) => {
    if (out.nack.length > 0) queue({ atMs: nowMs + s.rttMs / 2, kind: "nack", seqs: out.nack });
    if (out.needKeyframe) queue({ atMs: nowMs + s.rttMs / 2, kind: "pli" });
    for (const l of out.lost) if (l.rtpTimestamp !== undefined) delay.dropped(timeline.toMs(l.rtpTimestamp));
    for (const f of out.frames) {
      const captureMs = timeline.toMs(f.rtpTimestamp);
      if (f.decodable) {
        delay.good(captureMs, nowMs);
        available++;
      } else delay.dropped(captureMs);
    }
  };
  for (let i = 0; i * (1000 / fps) < s.seconds * 1000; i++) {
    const t = i * (1000 / fps);
    queue({ atMs: t, kind: "capture" });
  }
  while (events.length > 0) {
    const e = events.shift()!;
    // Deadlines and held-back keyframe requests due before this event.
    for (let d = jb.nextDeadlineMs(); d !== undefined && d <= e.atMs; d = jb.nextDeadlineMs()) {
      const before = jb.nextDeadlineMs();
      handle(jb.poll(d), d);
      if (jb.nextDeadlineMs() === before) break;
    }
    if (e.kind === "capture") {
      // The sender encodes and sends a frame.
      const key = gop === 1 || frames % gop === 0 || (keyframeDueMs !== null && e.atMs >= keyframeDueMs);
      if (key) keyframeDueMs = null;
      const bytes = key && gop > 1 ? deltaBytes * 5 : deltaBytes;
      for (const p of packetizer.packetizeFrame(vp8Frame(bytes, key), { timestampMs: e.atMs })) {
        sent.set(p.sequenceNumber, p);
        transmit(p, e.atMs);
      }
      frames++;
    } else if (e.kind === "packet") {
      handle(jb.push(e.packet, e.atMs), e.atMs);
    } else if (e.kind === "nack") {
      for (const seq of e.seqs) {
        const p = sent.get(seq);
        if (p) transmit(p, e.atMs);
      }
    } else if (e.kind === "pli") {
      if (gop > 1) keyframeDueMs = Math.min(keyframeDueMs ?? Infinity, e.atMs + 150);
    }
  }
  const st = delay.stats();
  const c = jb.counters;
  return { policy: policyName, fps, frames, available, p50: st.p50, p95: st.p95, framesRecovered: c.framesRecovered, framesLost: c.framesLost, keyframeRequests: c.keyframeRequests };
}

for (const lossRate of [0.05, 0.1]) {
  const s: Scenario = { lossRate, rttMs: 100, bitrateBps: 240_000, linkBps: 1_000_000, seconds: 120, seed: 7 };
  const rows = [run("classic", s, 100), run("classic", s, 300), run("resilient", s, 100)];
  console.log(`loss ${lossRate * 100}%, RTT ${s.rttMs} ms, ${s.bitrateBps / 1000} kbps on a ${s.linkBps / 1e6} Mbps bottleneck, ${s.seconds} s:`);
  for (const [i, r] of rows.entries()) {
    const label = i === 0 ? "classic, 100 ms wait" : i === 1 ? "classic, 300 ms wait" : "resilient          ";
    console.log(`  ${label}  ${r.fps} fps, ${r.available}/${r.frames} frames available, frame delay p50 ${r.p50?.toFixed(0)} ms p95 ${r.p95?.toFixed(0)} ms; recovered ${r.framesRecovered}, lost ${r.framesLost}, PLIs ${r.keyframeRequests}`);
  }
}
