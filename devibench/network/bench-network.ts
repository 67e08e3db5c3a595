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
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { LinkError } from "../../sfu/link/index.ts";
import { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";
import { generateSyntheticSet, loadSyntheticSet, TEXT_TASK } from "../datasets/synthetic.ts";
import type { Sample } from "../types.ts";
import { defaultConditions, type NetworkConditionSpec, parseCondition } from "./conditions.ts";
import { frameLatencies, summarize } from "./latency.ts";
import { type AnswerCache, type ClipRun, type NetworkBenchSettings, planFor, type PolicyName, runClip, traceOffsetMs } from "./run-clip.ts";

const HELP = `usage: npm run bench:network -- [options]

  --condition SPEC   a network condition (repeatable); default the three of issue 6:
                     trace:verizon-lte,rtt=100 / loss=0.05,rtt=100 / loss=0.1,rtt=100
                     keys: trace (name or mahimahi file), rate (bps, default 20000000 without a
                     trace), loss (0..1), rtt (ms, required), queue (packets, default 300), name
  --clips N          clips of the synthetic set (seed 1), 1..10 (default 10)
  --bitrate KBPS     sender bitrate for both policies (default 600)
  --codec C          h264 (default, as the publisher) or vp8
  --seed N           seed of the link's loss draws (default 1)
  --nack-retries N   classic: NACKs of a missing packet after the first, one per RTT (default 10, as
                     libwebrtc; 0 = NACK once)
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
  readonly json: boolean;
}

function parse(argv: string[]): Args | "help" {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        condition: { type: "string", multiple: true }, clips: { type: "string" }, bitrate: { type: "string" },
        seed: { type: "string" }, "nack-retries": { type: "string" }, codec: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" },
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
  let conditions: NetworkConditionSpec[];
  try {
    conditions = specs.length > 0 ? specs.map(parseCondition) : defaultConditions();
  } catch (err) {
    if (err instanceof LinkError) throw new UsageError(`--condition: ${err.message} (field ${err.field})`);
    throw err;
  }
  const codec = (values.codec as string | undefined) ?? "h264";
  if (codec !== "h264" && codec !== "vp8") throw new UsageError(`--codec must be h264 or vp8, got "${codec}"`);
  return {
    codec, conditions, clips: int("clips", 10, 1, 10), bitrateKbps: int("bitrate", 600, 50, 20_000), seed: int("seed", 1, 0, 2 ** 31 - 1),
    nackRetries: int("nack-retries", 10, 0, 100), json: values.json === true,
  };
}

interface PolicyFigures {
  p50Ms: number | null;
  p95Ms: number | null;
  accuracy: number;
  frames: number;
  framesWaitedForNext: number;
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
}

function figures(runs: ClipRun[]): PolicyFigures {
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
  return {
    p50Ms: s.p50Ms, p95Ms: s.p95Ms, accuracy: asks.length ? Math.round((correct / asks.length) * 1000) / 1000 : 0,
    frames: s.frames, framesWaitedForNext: waited, framesUntimed: untimed, asks: asks.length, correct,
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
    ffmpeg, codec: args.codec, width: 1280, height: 720, bitrateBps: args.bitrateKbps * 1000, maxFps: 15, seed: args.seed,
    askTimesMs: [1000, 2000, 3000, 4000, 5000], pacingFactor: 2.5, encodeDelayMs: 10, classicExtraWaitMs: 200,
    resilientMaxWaitMs: 100, nackMaxRetries: args.nackRetries, intraOnlyLoss: 0.01, cacheDir: join(cacheRoot, "network"),
  };
  const log = (line: string) => console.log(line);
  log("bench:network configuration");
  log(`  video: synthetic set seed 1, first ${args.clips} clip(s), 5 s each, ${settings.width}x${settings.height}, ${args.codec === "h264" ? "H.264 (libx264 veryfast zerolatency baseline; SPS and PPS in their own RTP packets, no STAP-A)" : "VP8 (libvpx realtime cpu-used 8)"}, ${args.bitrateKbps} kbps for both policies, camera ${settings.maxFps} fps`);
  log(`  sender: pacer ${settings.pacingFactor}x bitrate, encode delay ${settings.encodeDelayMs} ms, RTP MTU 1200 B + 28 B IP/UDP`);
  log(`  model: embedded OCR engine, text questions only (it cannot answer colour or counting), each asked at ${settings.askTimesMs.map((t) => t / 1000).join(", ")} s with the newest frame available then; normalised-match scoring`);
  log(`  link seed ${args.seed} (per clip: seed x 1000003 + clip x 7919, the same for both policies); frame latency = capture -> released decodable (a dropped frame counts until the next good one); decode time not modelled`);
  for (const c of args.conditions) {
    log(`  condition ${c.name}: uplink ${JSON.stringify(c.input)}, downlink {"delayMs":${c.rttMs / 2}} (RTCP, no loss)`);
    for (const p of ["classic", "resilient"] as const) {
      const plan = planFor(p, c, settings);
      log(`    ${p.padEnd(9)} sender ${plan.sender.fps} fps ${plan.sender.mode === "intra" ? "intra-only (-g 1)" : "long GOP, keyframe on PLI"}; receiver ${p} policy, maxWait ${plan.maxWaitMs} ms${plan.nackRetries ? `, NACK retried every ${plan.nackRetries.intervalMs} ms up to ${plan.nackRetries.maxRetries} times` : ", no NACK"}`);
    }
  }

  const setDir = join(cacheRoot, "synthetic-s1-c10");
  if (!existsSync(join(setDir, "manifest.json"))) {
    log(`generating the synthetic set in ${setDir}`);
    await generateSyntheticSet(ffmpeg, setDir, { seed: 1, clips: 10 }, (done, total) => log(`  clip ${done}/${total}`));
  }
  const byClip = new Map<string, Sample[]>();
  for (const s of loadSyntheticSet(setDir)) {
    if (s.taskType !== TEXT_TASK || s.videoPath === null) continue;
    byClip.set(s.videoPath, [...(byClip.get(s.videoPath) ?? []), s]);
  }
  const chosen = [...byClip].slice(0, args.clips);
  const clips = chosen.map(([videoPath, samples], index) => ({
    id: samples[0]!.id.replace(/-t\d+$/, ""), videoPath, durationSec: samples[0]!.durationSec, samples, index, of: chosen.length,
  }));
  for (const c of args.conditions) {
    if (c.uplink.rate.kind === "trace") log(`  ${c.name}: clips start ${clips.map((k) => traceOffsetMs(c, k.index, k.of) / 1000).join(", ")} s into the ${c.uplink.rate.trace.periodMs / 1000} s trace`);
  }

  const engine = new WorkerOcrEngine();
  const cache: AnswerCache = new Map();
  try {
    await engine.warmUp();
    log(`engine warm (${Math.round(performance.now() - t0)} ms since start)`);
    const table: Array<{ name: string; classic: PolicyFigures; resilient: PolicyFigures }> = [];
    for (const c of args.conditions) {
      const per: Partial<Record<PolicyName, PolicyFigures>> = {};
      for (const p of ["classic", "resilient"] as const) {
        const runs: ClipRun[] = [];
        for (const clip of clips) {
          const r = await runClip(clip, c, p, settings, engine, cache);
          runs.push(r);
          const l = summarize(frameLatencies(r.frames).latenciesMs);
          log(`  [${Math.round((performance.now() - t0) / 1000)} s] ${c.name} ${p} ${clip.id}: ${r.frames.length} frames, ${r.frames.filter((f) => f.fate === "decodable").length} decodable, latency p50 ${l.p50Ms} p95 ${l.p95Ms} ms, ${r.asks.filter((a) => a.correct).length}/${r.asks.length} correct, ${r.counters.retransmissions} retx, ${r.counters.plis} PLI`);
        }
        per[p] = figures(runs);
      }
      table.push({ name: c.name, classic: per.classic!, resilient: per.resilient! });
    }
    const seconds = Math.round((performance.now() - t0) / 1000);
    log("");
    log(`results (${clips.length} clips, ${seconds} s):`);
    const cell = (v: number | null) => (v === null ? "-" : String(v)).padStart(6);
    log(`${"condition".padEnd(20)} ${"policy".padEnd(9)} ${"fps".padStart(4)} ${"p50".padStart(6)} ${"p95".padStart(6)} ${"acc".padStart(6)}  frames  waited  lost  whole  undec  retx  PLI  kbps  uplink-loss`);
    for (const row of table) {
      for (const p of ["classic", "resilient"] as const) {
        const f = row[p];
        log(`${row.name.padEnd(20)} ${p.padEnd(9)} ${String(f.fps).padStart(4)} ${cell(f.p50Ms)} ${cell(f.p95Ms)} ${(f.accuracy * 100).toFixed(1).padStart(6)}  ${String(f.frames).padStart(6)}  ${String(f.framesWaitedForNext).padStart(6)}  ${String(f.framesLost).padStart(4)}  ${String(f.framesLostWhole).padStart(5)}  ${String(f.framesUndecodable + f.framesRefused).padStart(5)}  ${String(f.retransmissions).padStart(4)}  ${String(f.plis).padStart(3)}  ${String(f.sentKbps).padStart(4)}  ${f.uplinkLossPct}%`);
      }
      const d95 = row.classic.p95Ms !== null && row.resilient.p95Ms !== null ? row.classic.p95Ms - row.resilient.p95Ms : null;
      log(`${"".padEnd(20)} p95 classic - resilient: ${d95 === null ? "-" : `${d95} ms`} (goal >= 135); accuracy resilient - classic: ${((row.resilient.accuracy - row.classic.accuracy) * 100).toFixed(1)} points (goal >= -2)`);
    }
    if (args.json) {
      console.log(JSON.stringify({
        config: { clips: clips.length, codec: args.codec, bitrateKbps: args.bitrateKbps, seed: args.seed, nackRetries: args.nackRetries, width: settings.width, height: settings.height, askTimesMs: settings.askTimesMs, seconds },
        conditions: table.map((r) => ({ name: r.name, classic: r.classic, resilient: r.resilient })),
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
