/**
 * `npx tsx devibench/network/bench-network.ts` (npm run bench:network): classic WebRTC-style
 * receiving against the loss-resilient policy over emulated uplinks, on real encoded video of the
 * synthetic DeViBench set, scored by the embedded engine. Prints its configuration, a line per
 * step, a table, and with --json a last line of JSON. Asserts nothing.
 *
 * Per condition x policy x clip: encode (run-clip.ts `planFor` decides the sender settings),
 * simulate packet by packet in virtual time (simulate.ts), decode the released frames, ask every
 * text question at each ask time with the newest frame available then.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { DEFAULT_FEC_TARGET_FRAME_LOSS } from "../../encoder/rtp/frame-fec.ts";
import { LinkError } from "../../sfu/link/index.ts";
import { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";
import { defaultConditions, type NetworkConditionSpec, parseCondition, TRACE_QUEUE_PACKETS } from "./conditions.ts";
import { loadBenchClips } from "./clips.ts";
import { frameLatencies, summarize, timedFrames } from "./latency.ts";
import { defaultNetworkSettings } from "./link-frames.ts";
import { type AnswerCache, type ClipRun, type MethodName, type NetworkBenchSettings, planFor, type PolicyName, regionGroups, runClip, traceOffsetMs } from "./run-clip.ts";
import { frameLatencyFloorAt } from "./trace-floor.ts";

type RateControl = "gcc" | "fixed";

const HELP = `usage: npm run bench:network -- [options]

  --condition SPEC   a network condition (repeatable); default the five of issue 13:
                     trace:verizon-evdo-driving,rtt=100 / trace:att-lte-driving,rtt=100 /
                     loss=0.05,rtt=100 / loss=0.1,rtt=100 / loss=0.15,rtt=150
                     keys: trace (name or mahimahi file), rate (bps, default 20000000 without a
                     trace), loss (0..1), rtt (ms, required), queue (packets: default --queue
                     with a trace, 300 without), name
  --queue N          drop-tail queue of trace conditions that give none, in packets (default
                     ${TRACE_QUEUE_PACKETS}, Artic's mahimahi setup)
  --rate-control R   the senders' rate: gcc (follows the receiver's GCC estimate, REMB back, as a
                     call does; warmed up 10 s before each clip), fixed (the --bitrate throughout),
                     or both (default: gcc rows, and fixed rows for contrast)
  --congestion-window on|off
                     gcc senders drop frames while their congestion window is full (bytes sent
                     and not yet covered by transport feedback, every 50 ms, over the cap times
                     RTT + 50 ms + --window-queue; sfu/media/gcc/congestion-window.ts): on
                     (default) or off
  --window-queue MS  the queue the congestion window accepts (default 100 ms)
  --clips N          clips of the synthetic set (seed 1), 1..50 (default 10); more clips give the
                     accuracy columns more power (one clip's misread moves 10 clips' accuracy by
                     2-5 points); the first 10 are the same clips whatever N
  --bitrate KBPS     sender bitrate for both policies (default 600); on a lossy link the
                     resilient sender's parity and the classic sender's retransmissions come out
                     of it (classic's encoder gets 1 - loss of it, as libwebrtc's)
  --codec C          h264 (default, as the publisher) or vp8
  --method M         baseline (no region map) or context (the question's ground-truth region map,
                     planned as DeViBench's context method); default both, each reported
  --seed N           seed of the link's loss draws (default 1)
  --nack-retries N   classic: NACKs of a missing packet after the first, one per RTT (default 10, as
                     libwebrtc; 0 = NACK once)
  --classic-playout P  classic receiver hands frames on as libwebrtc does, at its playout time
                     (webrtc, default: jitter estimate, plus the round trip once NACKs are in use;
                     sfu/media/playout-timing.ts), or as soon as they are complete (none)
  --fec on|off       resilient sender on a lossy link: per-frame Reed-Solomon parity sized to the
                     loss, long GOP (on, default, as the publisher with a server that negotiates
                     it), or intra-only frames without parity (off, the publisher's fallback)
  --fec-target P     the frame loss the parity is sized for, 0 < P < 1 (default 0.005, as the
                     publisher)
  --json             print one JSON object as the last line
  --help`;

class UsageError extends Error {}

interface Args {
  readonly conditions: NetworkConditionSpec[];
  readonly clips: number;
  readonly bitrateKbps: number;
  readonly codec: "h264" | "vp8";
  readonly seed: number;
  readonly nackRetries: number;
  readonly classicPlayout: "webrtc" | "none";
  readonly methods: MethodName[];
  readonly json: boolean;
  readonly fec: boolean;
  readonly fecTargetFrameLoss: number;
  readonly rateControls: RateControl[];
  readonly congestionWindow: { readonly acceptedQueueMs: number } | null;
}

function parse(argv: string[]): Args | "help" {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        condition: { type: "string", multiple: true }, clips: { type: "string" }, queue: { type: "string" }, "rate-control": { type: "string" }, bitrate: { type: "string" },
        seed: { type: "string" }, "nack-retries": { type: "string" }, "classic-playout": { type: "string" }, codec: { type: "string" }, "congestion-window": { type: "string" }, "window-queue": { type: "string" }, method: { type: "string" }, fec: { type: "string" }, "fec-target": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = values[name] as string | undefined;
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    return v;
  };
  const specs = (values.condition as string[] | undefined) ?? [];
  const traceQueuePackets = int("queue", TRACE_QUEUE_PACKETS, 1, 100_000);
  let conditions: NetworkConditionSpec[];
  try {
    conditions = specs.length > 0 ? specs.map((t) => parseCondition(t, { traceQueuePackets })) : defaultConditions({ traceQueuePackets });
  } catch (err) {
    if (err instanceof LinkError) throw new UsageError(`--condition: ${err.message} (field ${err.field})`);
    throw err;
  }
  const codec = (values.codec as string | undefined) ?? "h264";
  if (codec !== "h264" && codec !== "vp8") throw new UsageError(`--codec must be h264 or vp8, got "${codec}"`);
  const method = values.method as string | undefined;
  if (method !== undefined && method !== "baseline" && method !== "context") throw new UsageError(`--method must be baseline or context, got "${method}"`);
  const fec = (values.fec as string | undefined) ?? "on";
  if (fec !== "on" && fec !== "off") throw new UsageError(`--fec must be on or off, got "${fec}"`);
  const fecTargetRaw = values["fec-target"] as string | undefined;
  const fecTarget = fecTargetRaw === undefined ? DEFAULT_FEC_TARGET_FRAME_LOSS : Number(fecTargetRaw);
  if (!(fecTarget > 0 && fecTarget < 1)) throw new UsageError(`--fec-target must be a frame loss fraction in (0, 1), got "${fecTargetRaw}"`);
  const rc = (values["rate-control"] as string | undefined) ?? "both";
  if (rc !== "gcc" && rc !== "fixed" && rc !== "both") throw new UsageError(`--rate-control must be gcc, fixed or both, got "${rc}"`);
  const cw = (values["congestion-window"] as string | undefined) ?? "on";
  if (cw !== "on" && cw !== "off") throw new UsageError(`--congestion-window must be on or off, got "${cw}"`);
  const playout = (values["classic-playout"] as string | undefined) ?? "webrtc";
  if (playout !== "webrtc" && playout !== "none") throw new UsageError(`--classic-playout must be webrtc or none, got "${playout}"`);
  return {
    congestionWindow: cw === "on" ? { acceptedQueueMs: int("window-queue", 100, 0, 5000) } : null, classicPlayout: playout, fec: fec === "on", fecTargetFrameLoss: fecTarget, rateControls: rc === "both" ? ["gcc", "fixed"] : [rc],
    methods: method === undefined ? ["baseline", "context"] : [method], codec, conditions, clips: int("clips", 10, 1, 50), bitrateKbps: int("bitrate", 600, 50, 20_000), seed: int("seed", 1, 0, 2 ** 31 - 1),
    nackRetries: int("nack-retries", 10, 0, 100), json: values.json === true,
  };
}

interface PolicyFigures {
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Frames that were never released decodable (each counts until the next good one), of all. */
  framesNotShownPct: number;
  /** Mean encoded frame size. */
  meanBitsPerFrame: number;
  /** RTP packets per frame as sent (parameter sets and each slice in their own, no retransmissions). */
  rtpPacketsPerFrame: number;
  accuracy: number;
  frames: number;
  framesWaitedForNext: number;
  /** Frames the sender did not encode because its congestion window was full (not in `frames`). */
  framesSkipped: number;
  framesUntimed: number;
  asks: number;
  correct: number;
  noFrameYet: number;
  fps: number;
  senderMode: string;
  maxWaitMs: number;
  sentKbps: number;
  keyframes: number;
  encoderRestarts: number;
  retransmissions: number;
  nackRetries: number;
  plis: number;
  uplinkLossPct: number;
  queueDrops: number;
  framesRecovered: number;
  framesLost: number;
  framesUndecodable: number;
  framesLostWhole: number;
  framesRefused: number;
  /** Parity packets of all packets sent, and frames FEC made whole (resilient with FEC). */
  parityPacketsPct: number;
  framesRepairedByFec: number;
  /** What the encoder was given at the start (the rest of the budget went to parity). */
  encoderKbps: number;
  /** Everything on the uplink during the clips (media, parity, retransmissions, headers). */
  uplinkKbps: number;
  /** The sender's mean cap (gcc; null at a fixed rate). */
  meanCapKbps: number | null;
  /**
   * The trace's frame-latency floor (p95) for the frames as sent: each frame at its capture time
   * in the trace with its own packet count (payload / 1200 B, rounded up; parity not counted),
   * encode delay and one-way delay as here (trace-floor.ts), over the frames the latency figures
   * count (the untimed ones at a clip's end left out, as there); null without a trace.
   */
  traceFloorP95Ms: number | null;
}

function figures(runs: ClipRun[], condition: NetworkConditionSpec, encodeDelayMs: number): PolicyFigures {
  const lat: number[] = [];
  let waited = 0;
  let untimed = 0;
  for (const r of runs) {
    const l = frameLatencies(r.frames);
    lat.push(...l.latenciesMs);
    waited += l.waitedForNext;
    untimed += l.untimed;
  }
  const s = summarize(lat);
  const asks = runs.flatMap((r) => r.asks);
  const correct = asks.filter((a) => a.correct).length;
  const sum = (f: (r: ClipRun) => number) => runs.reduce((n, r) => n + f(r), 0);
  const sent = sum((r) => r.counters.packetsSent);
  const plan = runs[0]!.plan;
  const allFrames = runs.flatMap((r) => r.frames);
  const sortedLat = [...lat].sort((a, b) => a - b);
  const rank = (p: number) => (sortedLat.length ? Math.round(sortedLat[Math.min(sortedLat.length - 1, Math.ceil((p / 100) * sortedLat.length) - 1)]!) : null);
  return {
    p50Ms: s.p50Ms, p95Ms: s.p95Ms, p99Ms: rank(99), maxMs: rank(100),
    framesNotShownPct: allFrames.length ? Math.round(((waited + untimed) / allFrames.length) * 1000) / 10 : 0,
    meanBitsPerFrame: allFrames.length ? Math.round(allFrames.reduce((n, f) => n + f.sizeBytes * 8, 0) / allFrames.length) : 0,
    rtpPacketsPerFrame: allFrames.length ? Math.round(((sent - sum((r) => r.counters.retransmissions)) / allFrames.length) * 10) / 10 : 0, accuracy: asks.length ? Math.round((correct / asks.length) * 1000) / 1000 : 0,
    frames: s.frames, framesWaitedForNext: waited, framesSkipped: sum((r) => r.counters.framesSkipped), framesUntimed: untimed, asks: asks.length, correct,
    noFrameYet: asks.filter((a) => a.frameIndex === null).length,
    fps: plan.sender.fps, senderMode: plan.sender.mode, maxWaitMs: plan.maxWaitMs,
    sentKbps: Math.round(sum((r) => r.sentKbps) / runs.length),
    keyframes: sum((r) => r.counters.keyframesSent), encoderRestarts: sum((r) => r.restarts),
    retransmissions: sum((r) => r.counters.retransmissions), nackRetries: sum((r) => r.counters.nackRetries), plis: sum((r) => r.counters.plis),
    uplinkLossPct: sent ? Math.round((sum((r) => r.counters.uplinkLost) / sent) * 1000) / 10 : 0,
    queueDrops: sum((r) => r.counters.uplinkQueueDropped),
    framesRecovered: sum((r) => r.counters.jitter.framesRecovered), framesLost: sum((r) => r.counters.jitter.framesLost),
    framesUndecodable: sum((r) => r.counters.jitter.framesUndecodable),
    framesLostWhole: sum((r) => r.counters.framesLostWhole),
    framesRefused: sum((r) => r.counters.framesRefused),
    parityPacketsPct: sent ? Math.round((sum((r) => r.counters.parityPackets) / sent) * 1000) / 10 : 0,
    framesRepairedByFec: sum((r) => r.counters.fecRepairedFrames),
    encoderKbps: Math.round(plan.sender.bitrateBps / 1000),
    uplinkKbps: Math.round(sum((r) => r.counters.uplinkKbps) / runs.length),
    meanCapKbps: runs[0]!.counters.meanCapKbps === null ? null : Math.round(sum((r) => r.counters.meanCapKbps ?? 0) / runs.length),
    traceFloorP95Ms: condition.uplink.rate.kind === "trace" && allFrames.length
      ? Math.round(frameLatencyFloorAt(
        condition.uplink.rate.trace,
        runs.flatMap((r) => timedFrames(r.frames).map((f) => ({ atMs: r.traceOffsetMs + f.captureMs, packets: Math.ceil(f.sizeBytes / 1200) }))),
        { encodeMs: encodeDelayMs, oneWayMs: condition.rttMs / 2 },
      )!)
      : null,
  };
}

async function main(): Promise<number> {
  let args: Args | "help";
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bench:network: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  if (args === "help") {
    console.log(HELP);
    return 0;
  }
  const t0 = performance.now();
  const ffmpeg = resolveFfmpeg({ env: process.env }).path;
  const cacheRoot = resolve(process.cwd(), ".cache", "devibench");
  const settings: NetworkBenchSettings = {
    ...defaultNetworkSettings(ffmpeg, args.codec, 1280, 720, args.bitrateKbps * 1000, args.seed, join(cacheRoot, "network")),
    askTimesMs: [1000, 2000, 3000, 4000, 5000], nackMaxRetries: args.nackRetries, classicPlayout: args.classicPlayout, fec: args.fec,
    fecTargetFrameLoss: args.fecTargetFrameLoss, rateControl: args.rateControls[0]!, warmupMs: 10_000,
    congestionWindow: args.congestionWindow,
  };
  const log = (line: string) => console.log(line);
  log("bench:network configuration");
  log(`  video: synthetic set seed 1, first ${args.clips} clip(s), 5 s each, ${settings.width}x${settings.height}, ${args.codec === "h264" ? "H.264 (libx264 veryfast zerolatency baseline; SPS and PPS in their own RTP packets, no STAP-A)" : "VP8 (libvpx realtime cpu-used 8)"}, ${args.bitrateKbps} kbps for both policies, camera ${settings.maxFps} fps`);
  log(`  sender: pacer ${settings.pacingFactor}x bitrate, encode delay ${settings.encodeDelayMs} ms, RTP MTU 1200 B + 28 B IP/UDP`);
  log(`  rate control: ${args.rateControls.map((r) => r === "gcc" ? `gcc (receiver: GCC delay-based on send/arrival times + loss-based, REMB back at once on a 3% fall and each second; sender: the publisher's BitrateCap, encoder restart at the new rate at most every 500 ms, pacer at ${settings.pacingFactor}x the cap; ${settings.congestionWindow ? `frames dropped before the encoder while the congestion window is full (transport feedback every 50 ms, window = cap x (RTT + 50 ms + ${settings.congestionWindow.acceptedQueueMs ?? 100} ms)); ` : "no congestion window; "}${settings.warmupMs / 1000} s warm-up with padding before each clip)` : `fixed (${args.bitrateKbps} kbps throughout)`).join("; ")}`);
  log(`  model: embedded OCR engine, text questions only (it cannot answer colour or counting), each asked at ${settings.askTimesMs.map((t) => t / 1000).join(", ")} s with the newest frame available then; normalised-match scoring`);
  log(`  methods: ${args.methods.join(", ")} (context: each question's ground-truth region map from the first frame, encoder/ladder planContextEncode calibrated on the policy's own sender encode, x264 ROI via addroi; PLI segments keep the map; the same for both policies)`);
  log(`  link seed ${args.seed} (per clip: seed x 1000003 + clip x 7919, the same for both policies); frame latency = capture -> released decodable (a dropped frame counts until the next good one); decode time not modelled`);
  for (const c of args.conditions) {
    log(`  condition ${c.name}: uplink ${JSON.stringify(c.input)}, downlink {"delayMs":${c.rttMs / 2}} (RTCP, no loss)`);
    for (const p of ["classic", "resilient"] as const) {
      const plan = planFor(p, c, settings);
      log(`    ${p.padEnd(9)} sender ${plan.sender.fps} fps ${plan.sender.mode === "intra" ? "intra-only (-g 1)" : "long GOP, keyframe on PLI"}${plan.fec ? `, FEC per frame for ${plan.fec.lossRate * 100}% loss (frame loss <= ${plan.fec.targetFrameLoss * 100}%), encoder at ${plan.sender.bitrateBps / 1000} kbps of ${settings.bitrateBps / 1000}` : plan.nackRetries && plan.sender.bitrateBps < settings.bitrateBps ? `, encoder at ${plan.sender.bitrateBps / 1000} kbps of ${settings.bitrateBps / 1000} (retransmissions come out of the cap, as in libwebrtc)` : ""}; receiver ${p} policy${plan.fec ? " with FEC repair (80 ms reorder window)" : ""}, maxWait ${plan.maxWaitMs} ms${plan.nackRetries ? `, NACK retried every ${plan.nackRetries.intervalMs} ms up to ${plan.nackRetries.maxRetries} times` : ", no NACK"}${p === "classic" ? `, frames handed on ${args.classicPlayout === "webrtc" ? "at WebRTC's playout time" : "when complete"}` : ", frames handed on when complete"}`);
    }
  }

  const clips = await loadBenchClips(ffmpeg, cacheRoot, args.clips, log);
  for (const c of args.conditions) {
    if (c.uplink.rate.kind === "trace") log(`  ${c.name}: clips start ${clips.map((k) => traceOffsetMs(c, k.index, k.of) / 1000).join(", ")} s into the ${c.uplink.rate.trace.periodMs / 1000} s trace`);
  }

  const engine = new WorkerOcrEngine();
  const cache: AnswerCache = new Map();
  try {
    await engine.warmUp();
    log(`engine warm (${Math.round(performance.now() - t0)} ms since start)`);
    type Row = { method: MethodName; name: string; rateControl: RateControl; classic: PolicyFigures; resilient: PolicyFigures };
    const table: Row[] = [];
    const total = args.methods.length * args.conditions.length * args.rateControls.length * 2 * clips.length;
    let done = 0;
    for (const method of args.methods) {
      for (const c of args.conditions) {
        for (const rateControl of args.rateControls) {
          const per: Partial<Record<PolicyName, PolicyFigures>> = {};
          const s = { ...settings, rateControl };
          for (const p of ["classic", "resilient"] as const) {
            const runs: ClipRun[] = [];
            for (const clip of clips) {
              // Context: one run per distinct region map of the clip's questions (one per clip here).
              for (const g of regionGroups(clip.samples, method)) {
                const r = await runClip({ ...clip, samples: g.samples }, c, p, s, engine, cache, g.regions);
                runs.push(r);
                const l = summarize(frameLatencies(r.frames).latenciesMs);
                log(`  [${Math.round((performance.now() - t0) / 1000)} s ${++done}/${total}] ${method} ${c.name} ${rateControl} ${p} ${clip.id}: ${r.frames.length} frames, ${r.frames.filter((f) => f.fate === "decodable").length} decodable, latency p50 ${l.p50Ms} p95 ${l.p95Ms} ms, ${r.asks.filter((a) => a.correct).length}/${r.asks.length} correct, ${r.counters.retransmissions} retx, ${r.counters.plis} PLI, uplink ${r.counters.uplinkKbps} kbps${r.counters.meanCapKbps !== null ? `, cap ${r.counters.meanCapKbps} kbps` : ""}`);
              }
            }
            per[p] = figures(runs, c, settings.encodeDelayMs);
          }
          table.push({ method, name: c.name, rateControl, classic: per.classic!, resilient: per.resilient! });
        }
      }
    }
    const seconds = Math.round((performance.now() - t0) / 1000);
    log("");
    log(`results (${clips.length} clips, ${seconds} s):`);
    const cell = (v: number | null) => (v === null ? "-" : String(v)).padStart(6);
    log(`${"method".padEnd(8)} ${"condition".padEnd(22)} ${"rate".padEnd(5)} ${"policy".padEnd(9)} ${"fps".padStart(4)} ${"p50".padStart(6)} ${"p95".padStart(6)} ${"p99".padStart(6)} ${"floor".padStart(6)} ${"acc".padStart(6)}  frames  skipped  not-shown  kbit/fr  pkt/fr  lost  whole  undec  retx  PLI  kbps  link-kbps  cap  enc-kbps  parity  fec-fixed  uplink-loss  q-drops`);
    for (const row of table) {
      for (const p of ["classic", "resilient"] as const) {
        const f = row[p];
        log(`${row.method.padEnd(8)} ${row.name.padEnd(22)} ${row.rateControl.padEnd(5)} ${p.padEnd(9)} ${String(f.fps).padStart(4)} ${cell(f.p50Ms)} ${cell(f.p95Ms)} ${cell(f.p99Ms)} ${cell(f.traceFloorP95Ms)} ${(f.accuracy * 100).toFixed(1).padStart(6)}  ${String(f.frames).padStart(6)}  ${String(f.framesSkipped).padStart(7)}  ${`${f.framesNotShownPct}%`.padStart(9)}  ${(f.meanBitsPerFrame / 1000).toFixed(1).padStart(7)}  ${String(f.rtpPacketsPerFrame).padStart(6)}  ${String(f.framesLost).padStart(4)}  ${String(f.framesLostWhole).padStart(5)}  ${String(f.framesUndecodable + f.framesRefused).padStart(5)}  ${String(f.retransmissions).padStart(4)}  ${String(f.plis).padStart(3)}  ${String(f.sentKbps).padStart(4)}  ${String(f.uplinkKbps).padStart(9)}  ${cell(f.meanCapKbps).padStart(4)}  ${String(f.encoderKbps).padStart(8)}  ${`${f.parityPacketsPct}%`.padStart(6)}  ${String(f.framesRepairedByFec).padStart(9)}  ${`${f.uplinkLossPct}%`.padStart(11)}  ${f.queueDrops}`);
      }
      const d95 = row.classic.p95Ms !== null && row.resilient.p95Ms !== null ? row.classic.p95Ms - row.resilient.p95Ms : null;
      const floorGap = row.resilient.traceFloorP95Ms !== null && row.resilient.p95Ms !== null ? `; resilient p95 - trace floor: ${row.resilient.p95Ms - row.resilient.traceFloorP95Ms} ms (goal <= 150)` : "";
      log(`${"".padEnd(37)} ${row.rateControl} p95 classic - resilient: ${d95 === null ? "-" : `${d95} ms`} (goal >= 135); accuracy resilient - classic: ${((row.resilient.accuracy - row.classic.accuracy) * 100).toFixed(1)} points (goal >= -2)${floorGap}`);
    }
    if (args.json) {
      console.log(JSON.stringify({
        config: { clips: clips.length, congestionWindow: args.congestionWindow, methods: args.methods, rateControls: args.rateControls, warmupMs: settings.warmupMs, codec: args.codec, bitrateKbps: args.bitrateKbps, seed: args.seed, nackRetries: args.nackRetries, classicPlayout: args.classicPlayout, width: settings.width, height: settings.height, askTimesMs: settings.askTimesMs, seconds },
        // One entry per condition, for the product's method (context-aware, the map the server
        // sends with a question) and rate control (gcc) when they ran; every row is in `results`.
        conditions: table
          .filter((r) => r.method === (args.methods.includes("context") ? "context" : "baseline") && r.rateControl === args.rateControls[0])
          .map((r) => ({ name: r.name, method: r.method, rateControl: r.rateControl, classic: r.classic, resilient: r.resilient })),
        results: table.map((r) => ({ method: r.method, name: r.name, rateControl: r.rateControl, classic: r.classic, resilient: r.resilient })),
      }));
    }
    return 0;
  } finally {
    await engine.close();
  }
}

main().then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exitCode = 1;
});
