/**
 * npm run bench:call -- [--json] [--questions 20] [--max-calls 8] [--seed N] [--cpu-calls K] [--hold-sec S]
 *
 * The call server's figures on this machine, offline: question -> answer latency, receive-path
 * latency, CPU per call and how many calls it takes (see HELP in bench-args.ts). The server runs
 * in this process with the embedded OCR engine; the publishers run in one child Node process
 * (publisher-worker.ts) so that this process's CPU is the server's. Prints its configuration,
 * progress, a table; with --json the last line is one JSON object. Exit code 0 only when the run
 * completed and left no process behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { generateClip } from "../../encoder/synth/clip.ts";
import { CallServer } from "../call/call-server.ts";
import { WorkerOcrEngine } from "../mllm/embedded/worker-engine.ts";
import { HELP, parseBenchArgs, type BenchOptions } from "./bench-args.ts";
import { LogCounter, type BenchContext, type SendConfig } from "./bench-context.ts";
import { capacityPhase } from "./capacity.ts";
import { BenchError } from "./errors.ts";
import { fairnessPhase } from "./fairness.ts";
import { cpuPhase, questionPhase } from "./phases.ts";
import { descendantsOf, readCmdline } from "./proc-cpu.ts";
import { PublisherFleet } from "./publisher-fleet.ts";
import { resultJson, resultTable } from "./report.ts";
import { benchScene } from "./scene.ts";

/** The whole run must end within this; a stalled phase fails the run with a clear message. */
const BUDGET_MS = 8 * 60_000;
const SECRET = "call-bench-secret-not-for-production-0123456789";

/** What the run opened; closed by the run, or by main() when the run is stopped (budget, Ctrl-C). */
interface Owned {
  fleet: PublisherFleet | null;
  server: CallServer | null;
  dir: string | null;
}

async function closeOwned(owned: Owned): Promise<void> {
  const { fleet, server, dir } = owned;
  owned.fleet = owned.server = owned.dir = null;
  await fleet?.close().catch(() => {});
  await server?.close().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
}

async function run(o: BenchOptions, ffmpeg: { path: string; source: string }, owned: Owned): Promise<number> {
  const t0 = performance.now();
  const scene = benchScene(o.seed);
  const scene360 = benchScene(o.seed, 640, 360);
  const dir = (owned.dir = mkdtempSync(join(tmpdir(), "bench-call-")));
  const sendQ: SendConfig = { input: join(dir, "sign-1280x720.mkv"), width: 1280, height: 720, fps: 15, bitrateBps: 600_000 };
  const sendCap: SendConfig = { input: join(dir, "sign-640x360.mkv"), width: 640, height: 360, fps: 15, bitrateBps: 300_000, speed: "ultrafast" };
  const say = (line: string) => console.log(line);
  say("call bench: configuration");
  say(`  seed ${o.seed}; sign "${scene.spec.signs[0]!.lines.join(" / ")}" at ${scene.spec.signs[0]!.x},${scene.spec.signs[0]!.y}; distractor "${scene.spec.signs[1]!.lines.join(" / ")}"`);
  say(`  clips: 1280x720 and 640x360, ${scene.spec.durationSec} s at ${scene.spec.fps} fps, sway ${scene.spec.shakePx} px, looped by the publishers`);
  say(`  questions ${o.questions}, cycling: ${scene.questions.map((q) => `"${q.text}" -> ${q.expect}`).join("; ")}`);
  say(`  question + CPU calls: 1280x720 15 fps 600 kbps cap, x264 veryfast (publisher default); CPU window 10 s, ${o.cpuCalls} call(s)`);
  say(`  capacity calls: 640x360 15 fps 300 kbps, x264 ultrafast, one room each, 1..${o.maxCalls}, hold ${o.holdSec} s, pass: no frame lost/late, every 1-s fps sample within 2 fps of the rate the server asked for`);
  say(`  server: 127.0.0.1, embedded OCR engine, ${o.ocrWorkers} worker thread(s) shared by rooms in turn (regionFinder = textRegionsForQuestion), decodes to 1280x720 RGB, rates 600k/15 and 240k/15 with a map, delay-based rate estimate ${o.delayBased ? "on" : "off"}`);
  say(`  fairness: ${o.fairnessRounds} round(s): one question in room B (1280x720) alone, then one asked 50, 400 or 800 ms (in turn) after room A (640x360) floods its AI peer with 15 at once; publishers at nice 10 in this phase`);
  say(`  machine: ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "?"}), Node ${process.version}, ffmpeg ${ffmpeg.path} (${ffmpeg.source})`);
  say("  note: the publishers (Node + ffmpeg) share this machine's cores with the server; their CPU is measured apart and not counted as the server's");

  const serverLog = new LogCounter();
  const problems: string[] = [];
  const engine = new WorkerOcrEngine({ workers: o.ocrWorkers });
  try {
    say("[setup] generating clips");
    await Promise.all([generateClip(ffmpeg.path, sendQ.input, scene.spec), generateClip(ffmpeg.path, sendCap.input, scene360.spec)]);
    say("[setup] loading the OCR models, starting the server and the publisher worker");
    await engine.warmUp();
    const server = (owned.server = new CallServer({
      secret: SECRET, ffmpeg: ffmpeg.path, model: engine, logger: serverLog,
      regionFinder: { find: (q, f) => engine.textRegionsForQuestion(q, f) },
      modelConcurrency: 2 * engine.workers,
      delayBasedRate: o.delayBased,
    }));
    const addr = await server.listen(0, "127.0.0.1");
    const fleet = (owned.fleet = await PublisherFleet.spawn());
    const ctx: BenchContext = { server, url: `ws://127.0.0.1:${addr.port}/ws`, fleet, ffmpeg: ffmpeg.path, scene, serverLog, problems, progress: say };

    const q = await questionPhase(ctx, sendQ, o.questions);
    const fair = await fairnessPhase(ctx, sendCap, sendQ, o.fairnessRounds);
    const cpu = await cpuPhase(ctx, sendQ, o.cpuCalls);
    const cap = await capacityPhase(ctx, sendCap, o.maxCalls, o.holdSec * 1000);

    await fleet.close();
    const left = server.participantCount;
    if (left > 0) problems.push(`server: ${left} participant(s) still listed after every publisher closed`);
    await closeOwned(owned);
    await engine.close();
    const orphans = await leftoverChildren();
    if (orphans.length) problems.push(`processes left after closing: ${orphans.join("; ")}`);
    for (const e of fleet.events) problems.push(`publisher ${e.callId ?? "-"} ${e.level} ${e.name}: ${e.message.slice(0, 200)}`);
    const warns = [...serverLog.events].filter(([, v]) => v.level !== "info");

    say(resultTable(q, cpu, cap, "1280x720 15 fps 600 kbps", "640x360 15 fps 300 kbps", fair));
    say("");
    say(`server log events: ${[...serverLog.events].map(([k, v]) => `${k} x${v.count}`).join(", ")}`);
    for (const [k, v] of warns) say(`  ${v.level} ${k} x${v.count}, first: ${v.first}`);
    say(problems.length ? `problems (${problems.length}):\n${problems.map((p) => `  - ${p}`).join("\n")}` : "problems: none seen");
    say(`total time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    if (o.json) {
      const extra = {
        seed: o.seed, questions: o.questions, maxCallsTried: o.maxCalls, holdSec: o.holdSec,
        sign: scene.sign, serverLogEvents: serverLog.counts(), problems, totalSec: Math.round((performance.now() - t0) / 1000),
      };
      console.log(JSON.stringify(resultJson(q, cpu, cap, extra, fair)));
    }
    if (orphans.length) {
      console.error(`call bench: processes outlived the run (${orphans.join("; ")}); they were killed`);
      return 1;
    }
    return 0;
  } finally {
    await closeOwned(owned);
  }
}

/** Child processes still running after everything closed: listed, then killed by pid. */
async function leftoverChildren(): Promise<string[]> {
  for (let i = 0; i < 30 && descendantsOf(process.pid).some((p) => p.comm !== "esbuild"); i++) await new Promise((r) => setTimeout(r, 100));
  // tsx's esbuild service is the loader's, not the bench's: it ends with this process.
  const left = descendantsOf(process.pid).filter((p) => p.comm !== "esbuild");
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return left.map((p) => `${p.pid} ${readCmdline(p.pid).slice(0, 8).join(" ") || p.comm}`);
}

async function main(): Promise<number> {
  let opts: BenchOptions | "help";
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`call bench: ${(err as Error).message}`);
    return 2;
  }
  if (opts === "help") {
    console.log(HELP);
    return 0;
  }
  const owned: Owned = { fleet: null, server: null, dir: null };
  let budget: NodeJS.Timeout | undefined;
  let onSignal: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    budget = setTimeout(() => reject(new BenchError("TIMEOUT", `the bench ran past its ${BUDGET_MS / 60_000} min budget; a phase stalled (see the last progress line)`)), BUDGET_MS);
    onSignal = () => reject(new BenchError("PHASE_FAILED", "interrupted"));
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
  try {
    const ffmpeg = resolveFfmpeg({ env: process.env });
    return await Promise.race([run(opts, ffmpeg, owned), stopped]);
  } catch (err) {
    const e = err as Error & { code?: string; cause?: unknown };
    console.error(`call bench failed: ${e.code ? `${e.code}: ` : ""}${e.message}${e.cause instanceof Error ? ` (cause: ${e.cause.message})` : ""}`);
    return 1;
  } finally {
    clearTimeout(budget);
    if (onSignal) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    // A stopped run may still be inside a phase: closing what it opened ends the phase too.
    await closeOwned(owned);
  }
}

// Leave the way an entry point should: after everything closed, with the run's code. Handles the
// server or its libraries leave open would otherwise hold the process; they are listed when they do
// (beyond those open at start, e.g. tsx's own pipes).
const atStart = process.getActiveResourcesInfo();
const code = await main();
await new Promise((r) => setTimeout(r, 300)); // closed handles leave the list on a later tick
const extra = process.getActiveResourcesInfo().filter((h) => h !== "Timeout" && h !== "TTYWrap");
for (const h of atStart) {
  const i = extra.indexOf(h);
  if (i >= 0) extra.splice(i, 1);
}
if (extra.length > 0) console.error(`call bench: still open at exit: ${extra.join(", ")}`);
process.exit(code);
