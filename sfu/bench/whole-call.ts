/**
 * npm run bench:whole-call -- [--json] [--minutes 4] [--interval 30] [--seed 1] [--modes ...]
 *
 * A whole call, not a question: a publisher streams minutes of synthetic scenes (a new sign every
 * `interval` seconds) and asks about the scene once per interval, the way a person would. Each mode
 * is a call server of its own (one room, one publisher) and the modes run side by side on the same
 * clip, their questions staggered so that their model calls do not overlap:
 *   always-on      today's call: the video at the configured rate all the time;
 *   on-demand      vision on demand: a keep-alive between questions, full rate on a question;
 *   model-need     the model-need cap alone (the rate walks down while the model reads with margin);
 *   on-demand+need both (the cap goes back to the top each time the video idles: the next
 *                  question looks at a scene no reading rated).
 * Per mode: mean uplink (video and FEC payload the publisher sent, over the whole call), answers
 * right, and question -> answer latency (first and final chunk, p50 and mean, as the publisher sees
 * it), with what vision on demand and the cap did (resume waits, questions looked at twice and
 * what their first look read at, the cap's level at the end).
 *
 * The server runs in this process with the embedded OCR engine (shared by the modes' servers);
 * the publishers run in one child Node process (publisher-worker.ts). Prints its configuration,
 * progress and a table; with --json the last line is one JSON object.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { generateClip } from "../../encoder/synth/clip.ts";
import { mulberry32, randInt } from "../../encoder/synth/prng.ts";
import { CallServer } from "../call/call-server.ts";
import { percentile } from "../media/stats-window.ts";
import { WorkerOcrEngine } from "../mllm/embedded/worker-engine.ts";
import { fetchToken } from "../publisher/signaling-client.ts";
import { LogCounter, sleep, waitFor } from "./bench-context.ts";
import { BenchError } from "./errors.ts";
import { PublisherFleet } from "./publisher-fleet.ts";
import { answerIsRight, benchScene, type BenchScene } from "./scene.ts";

const MODES = ["always-on", "on-demand", "model-need", "on-demand+need"] as const;
type Mode = (typeof MODES)[number];

export const HELP = `Usage: npm run bench:whole-call -- [options]

A whole call: a 1280x720 15 fps publisher streams a new synthetic sign every --interval seconds
for --minutes, and asks one question about the sign on screen once per interval. Each mode is its
own call server and room, run side by side on the same clip (questions staggered so the model
calls do not overlap). Reports per mode: mean uplink kbps (video + FEC payload over the whole
call), answers right, question -> answer latency (first and final chunk, p50 and mean).

Modes:
  always-on       the video at the configured rate throughout (today's default)
  on-demand       vision on demand: 2 fps keep-alive (encoder unchanged) from 3 s after an answer; a
                  question brings the full frame rate back at once and is answered from a frame
                  captured after it
  model-need      the model-need cap: the rate walks down a 100-600 kbps ladder while the model
                  reads with margin (readability >= 0.9), up when it reads under 0.8
  on-demand+need  both; the cap goes back to the top whenever the video idles

Options:
  --json              end with one JSON line: {"modes":{"always-on":{"uplinkKbps","accuracy",
                      "answerMs":{"p50","mean"},...},...},"goal":{...}}
  --minutes M         length of each call (default 4; one scene per interval)
  --interval S        seconds between questions, and each scene's length (default 30, at least 10)
  --modes a,b,...     which modes (default always-on,on-demand,on-demand+need)
  --rate-kbps K       the configured rate (default 600)
  --maps on|off       the context loop's region maps (default off: with them always-on itself drops
                      to 240 kbps after the first question, and the goal compares with 600)
  --seed N            seed of the scenes' signs and positions (default 1)
  --help              this text

Goal (issue 13): on-demand+need uses >= 60% less uplink than always-on, with accuracy within 2
points and at most 300 ms more answer latency.
Environment: FFMPEG_PATH picks the ffmpeg binary (else ffmpeg-static, else ffmpeg on PATH).`;

interface Options {
  readonly json: boolean;
  readonly minutes: number;
  readonly intervalSec: number;
  readonly modes: readonly Mode[];
  readonly rateKbps: number;
  readonly maps: boolean;
  readonly seed: number;
}

function parse(argv: string[]): Options | "help" {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        json: { type: "boolean" }, help: { type: "boolean" }, minutes: { type: "string" }, interval: { type: "string" },
        modes: { type: "string" }, "rate-kbps": { type: "string" }, maps: { type: "string" }, seed: { type: "string" },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new BenchError("INVALID_OPTION", (err as Error).message);
  }
  if (v.help) return "help";
  const num = (name: string, raw: string | undefined, def: number, ok: (x: number) => boolean, what: string) => {
    if (raw === undefined) return def;
    const x = Number(raw);
    if (!ok(x)) throw new BenchError("INVALID_OPTION", `--${name} must be ${what}, got "${raw}"`);
    return x;
  };
  const modes = (v.modes ?? "always-on,on-demand,on-demand+need").split(",").map((m) => m.trim());
  for (const m of modes) if (!(MODES as readonly string[]).includes(m)) throw new BenchError("INVALID_OPTION", `--modes: unknown mode "${m}" (known: ${MODES.join(", ")})`);
  if (new Set(modes).size !== modes.length || modes.length === 0) throw new BenchError("INVALID_OPTION", `--modes must list distinct modes, got "${v.modes}"`);
  const maps = v.maps ?? "off";
  if (maps !== "on" && maps !== "off") throw new BenchError("INVALID_OPTION", `--maps must be on or off, got "${maps}"`);
  return {
    json: v.json ?? false,
    minutes: num("minutes", v.minutes, 4, (x) => x > 0 && x <= 60, "a number of minutes in (0, 60]"),
    intervalSec: num("interval", v.interval, 30, (x) => Number.isInteger(x) && x >= 10 && x <= 300, "a whole number of seconds from 10 to 300"),
    modes: modes as Mode[],
    rateKbps: num("rate-kbps", v["rate-kbps"], 600, (x) => x >= 100 && x <= 5000, "a number of kbps from 100 to 5000"),
    maps: maps === "on",
    seed: num("seed", v.seed, 1, (x) => Number.isInteger(x) && x >= 0, "a whole number >= 0"),
  };
}

const SECRET = "whole-call-bench-secret-not-for-production-0123";

/** Scene k of the run: the call bench's sign with its own text (seed + k) and its own place. */
export function sessionScene(seed: number, k: number): BenchScene {
  const base = benchScene(seed * 1000 + k);
  const rng = mulberry32(seed * 7919 + k);
  const [sign, distractor] = base.spec.signs;
  // The sign moves around the right part of the picture; the distractor stays on the left.
  const moved = { ...sign!, x: randInt(rng, 560, 1280 - sign!.width - 40) & ~1, y: randInt(rng, 60, 720 - sign!.height - 60) & ~1 };
  return { ...base, spec: { ...base.spec, signs: [moved, distractor!] } };
}

interface Asked {
  readonly scene: number;
  readonly question: string;
  readonly expect: string;
  readonly answer: string;
  readonly right: boolean;
  readonly firstMs: number | null;
  readonly finalMs: number;
}

interface ModeResult {
  readonly mode: Mode;
  readonly uplinkKbps: number;
  readonly asked: number;
  readonly right: number;
  readonly accuracy: number;
  readonly answerMs: { readonly p50: number | null; readonly mean: number | null };
  readonly firstChunkMs: { readonly p50: number | null; readonly mean: number | null };
  readonly resumes: number;
  readonly resumeWaitMs: { readonly p50: number | null; readonly max: number | null };
  readonly modelNeedKbpsAtEnd: number | null;
  /** Questions the agent looked at twice (a first look read under 0.8 or not at all), and what the first looks read at. */
  readonly secondLooks: { readonly count: number; readonly firstReadability: readonly (number | null)[] };
  readonly samples: readonly Asked[];
}

/** A mode's server log: counts every event (LogCounter) and keeps what each second look's first look read at. */
class ModeLog extends LogCounter {
  readonly lookAgain: (number | null)[] = [];
  override info(name: string, fields: object): void {
    super.info(name, fields);
    if (name === "agent.look-again") {
      const r = (fields as { readability?: unknown }).readability;
      this.lookAgain.push(typeof r === "number" ? Math.round(r * 100) / 100 : null);
    }
  }
}

const p50 = (xs: readonly number[]): number | null => percentile(xs, 50) ?? null;
const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const r0 = (x: number | null) => (x === null ? null : Math.round(x));

async function renderSession(ffmpeg: string, dir: string, seed: number, scenes: number, intervalSec: number, say: (l: string) => void): Promise<{ file: string; scenes: BenchScene[] }> {
  const all = Array.from({ length: scenes }, (_, k) => sessionScene(seed, k));
  const parts: string[] = [];
  for (let k = 0; k < scenes; k++) {
    const f = join(dir, `scene-${k}.mkv`);
    await generateClip(ffmpeg, f, { ...all[k]!.spec, fps: 15 });
    parts.push(f);
    say(`[setup] scene ${k + 1}/${scenes} rendered: "${all[k]!.spec.signs[0]!.lines.join(" / ")}"`);
  }
  // Each 8 s scene looped to the interval, then all of them in a row: one clip the publisher plays.
  const file = join(dir, "session.mkv");
  const loops = Math.ceil(intervalSec / all[0]!.spec.durationSec) - 1;
  const inputs = parts.flatMap((p) => ["-stream_loop", String(loops), "-i", p]);
  const chains = parts.map((_, k) => `[${k}:v]trim=duration=${intervalSec},setpts=PTS-STARTPTS[v${k}]`).join(";");
  const concat = `${parts.map((_, k) => `[v${k}]`).join("")}concat=n=${parts.length}:v=1:a=0[out]`;
  await runFfmpeg(ffmpeg, ["-y", "-v", "error", ...inputs, "-filter_complex", `${chains};${concat}`, "-map", "[out]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", file]);
  return { file, scenes: all };
}

async function runMode(
  mode: Mode, slot: number, slots: number, o: Options, file: string, scenes: readonly BenchScene[],
  fleet: PublisherFleet, server: CallServer, log: ModeLog, url: string, ffmpeg: string, say: (l: string) => void,
): Promise<ModeResult> {
  const room = `whole-${mode.replace("+", "-")}`;
  const token = await fetchToken(url, room, `bench-${room}`);
  const startedMs = performance.now();
  await fleet.request({ type: "start", callId: room, serverUrl: url, token, ffmpeg, input: file, width: 1280, height: 720, fps: 15, bitrateBps: o.rateKbps * 1000 }, 30_000);
  await waitFor(() => (server.metrics().find((m) => m.room === room)?.framesDecoded ?? 0) > 0, 20_000, `${room}'s first decoded frame`);
  const interval = o.intervalSec * 1000;
  const samples: Asked[] = [];
  for (let k = 0; k < scenes.length; k++) {
    // Each mode asks at its own moment, 20-80% into the scene: model calls of different modes
    // would otherwise wait for each other, and the latency would be the machine's, not the mode's.
    const at = startedMs + k * interval + interval * (0.2 + (0.6 * slot) / Math.max(1, slots - 1));
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    const scene = scenes[k]!;
    const q = scene.questions[k % scene.questions.length]!;
    let r: { firstChunkMs: number | null; finalMs: number; text: string };
    try {
      r = await fleet.request({ type: "ask", callId: room, text: q.text, timeoutMs: 20_000 }, 25_000);
    } catch (err) {
      r = { firstChunkMs: null, finalMs: 20_000, text: `(no answer: ${(err as Error).message})` };
    }
    const right = answerIsRight(r.text, q.expect);
    samples.push({ scene: k, question: q.text, expect: q.expect, answer: r.text, right, firstMs: r.firstChunkMs, finalMs: r.finalMs });
    say(`[${mode}] ${k + 1}/${scenes.length} ${right ? "right" : "WRONG"} final ${Math.round(r.finalMs)} ms (want ${q.expect}): ${JSON.stringify(r.text.slice(0, 70))}`);
  }
  // The call lasts whole intervals: the uplink counts every second of it.
  const endAt = startedMs + scenes.length * interval;
  if (endAt > performance.now()) await sleep(endAt - performance.now());
  const stats = (await fleet.request({ type: "stats" }, 10_000)).calls.find((c) => c.callId === room);
  const seconds = (performance.now() - startedMs) / 1000;
  const m = server.metrics().find((x) => x.room === room);
  await fleet.request({ type: "close", callId: room }, 15_000);
  const finals = samples.map((s) => s.finalMs);
  const firsts = samples.map((s) => s.firstMs).filter((x): x is number => x !== null);
  const waits = m?.vision?.resumeWaitMs ?? [];
  const right = samples.filter((s) => s.right).length;
  return {
    mode,
    uplinkKbps: stats ? Math.round((stats.bytesSent * 8) / seconds / 1000) : Number.NaN,
    asked: samples.length,
    right,
    accuracy: samples.length ? right / samples.length : 0,
    answerMs: { p50: r0(p50(finals)), mean: r0(mean(finals)) },
    firstChunkMs: { p50: r0(p50(firsts)), mean: r0(mean(firsts)) },
    resumes: m?.vision?.resumes ?? 0,
    resumeWaitMs: { p50: r0(p50(waits)), max: waits.length ? Math.max(...waits) : null },
    modelNeedKbpsAtEnd: m?.modelNeedBitrateBps ? Math.round(m.modelNeedBitrateBps / 1000) : null,
    secondLooks: { count: log.lookAgain.length, firstReadability: [...log.lookAgain] },
    samples,
  };
}

async function run(o: Options): Promise<number> {
  const t0 = performance.now();
  const ffmpeg = resolveFfmpeg({ env: process.env });
  const say = (line: string) => console.log(line);
  const scenesN = Math.max(1, Math.round((o.minutes * 60) / o.intervalSec));
  say("whole-call bench: configuration");
  say(`  ${scenesN} scene(s) of ${o.intervalSec} s (one question each, cycling gate / opening time / seat), seed ${o.seed}; 1280x720 15 fps publisher, rate ${o.rateKbps} kbps, region maps ${o.maps ? "on" : "off"}`);
  say(`  modes side by side: ${o.modes.join(", ")}; each its own call server (127.0.0.1, resilient policy, delay-based rate on), one embedded OCR engine for all`);
  say(`  on-demand: keep-alive at 2 fps (encoder unchanged) from 3 s after an answer; model-need ladder 100/150/200/300/400/600 kbps (capped at the rate), target 0.8, headroom 0.9, hold 120 s, back to the top when the video idles`);
  say(`  machine: ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "?"}), Node ${process.version}, ffmpeg ${ffmpeg.path} (${ffmpeg.source})`);
  const dir = mkdtempSync(join(tmpdir(), "bench-whole-call-"));
  const engine = new WorkerOcrEngine({});
  const servers: CallServer[] = [];
  let fleet: PublisherFleet | null = null;
  const logs = o.modes.map(() => new ModeLog());
  try {
    const { file, scenes } = await renderSession(ffmpeg.path, dir, o.seed, scenesN, o.intervalSec, say);
    await engine.warmUp();
    fleet = await PublisherFleet.spawn();
    const urls: string[] = [];
    for (const [i, mode] of o.modes.entries()) {
      const s = new CallServer({
        secret: SECRET, ffmpeg: ffmpeg.path, model: engine, logger: logs[i]!,
        regionFinder: { find: (q, f) => engine.textRegionsForQuestion(q, f) },
        modelConcurrency: 2 * engine.workers,
        sendMaps: o.maps,
        normalRate: { maxBitrateBps: o.rateKbps * 1000, maxFramerate: 15 },
        mappedRate: { maxBitrateBps: Math.min(240_000, o.rateKbps * 1000), maxFramerate: 15 },
        visionOnDemand: mode === "on-demand" || mode === "on-demand+need" ? {} : null,
        modelNeed: mode === "model-need" || mode === "on-demand+need" ? {} : null,
      });
      servers.push(s);
      const addr = await s.listen(0, "127.0.0.1");
      urls.push(`ws://127.0.0.1:${addr.port}/ws`);
    }
    say(`[run] ${o.modes.length} call(s) for ${((scenesN * o.intervalSec) / 60).toFixed(1)} min`);
    const results = await Promise.all(o.modes.map((mode, i) => runMode(mode, i, o.modes.length, o, file, scenes, fleet!, servers[i]!, logs[i]!, urls[i]!, ffmpeg.path, say)));
    const base = results.find((r) => r.mode === "always-on");
    const both = results.find((r) => r.mode === "on-demand+need");
    say("");
    say("mode              uplink kbps   right   answer p50 / mean   first chunk p50   resumes (wait p50/max)   2nd looks   need at end");
    for (const r of results) {
      say(
        `${r.mode.padEnd(17)} ${String(r.uplinkKbps).padStart(11)}   ${`${r.right}/${r.asked}`.padStart(5)}   ${`${r.answerMs.p50 ?? "-"} / ${r.answerMs.mean ?? "-"} ms`.padStart(17)}   ${`${r.firstChunkMs.p50 ?? "-"} ms`.padStart(15)}   ` +
          `${`${r.resumes} (${r.resumeWaitMs.p50 ?? "-"}/${r.resumeWaitMs.max ?? "-"} ms)`.padStart(22)}   ${String(r.secondLooks.count).padStart(9)}   ${r.modelNeedKbpsAtEnd === null ? "-" : `${r.modelNeedKbpsAtEnd} kbps`}`,
      );
    }
    let goal: Record<string, unknown> | null = null;
    if (base && both) {
      const saved = 1 - both.uplinkKbps / base.uplinkKbps;
      const accDiff = (both.accuracy - base.accuracy) * 100;
      const latDiff = (both.answerMs.mean ?? Infinity) - (base.answerMs.mean ?? 0);
      goal = { uplinkSaved: Number(saved.toFixed(3)), accuracyPoints: Number(accDiff.toFixed(1)), answerMsMore: Math.round(latDiff), met: saved >= 0.6 && accDiff >= -2 && latDiff <= 300 };
      say("");
      say(`goal (on-demand+need against always-on): uplink ${(saved * 100).toFixed(0)}% less (>= 60%), accuracy ${accDiff >= 0 ? "+" : ""}${accDiff.toFixed(1)} points (>= -2), answer ${latDiff >= 0 ? "+" : ""}${Math.round(latDiff)} ms mean (<= 300): ${goal.met ? "met" : "NOT met"}`);
    }
    for (const [i, log] of logs.entries()) {
      const warns = [...log.events].filter(([, v]) => v.level !== "info");
      for (const [k, v] of warns) say(`  server (${o.modes[i]}) ${v.level} ${k} x${v.count}, first: ${v.first}`);
    }
    for (const e of fleet.events) say(`  publisher ${e.callId ?? "-"} ${e.level} ${e.name}: ${e.message.slice(0, 200)}`);
    say(`total time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    if (o.json) {
      console.log(JSON.stringify({
        config: { minutes: o.minutes, intervalSec: o.intervalSec, scenes: scenesN, rateKbps: o.rateKbps, maps: o.maps, seed: o.seed, modes: o.modes },
        modes: Object.fromEntries(results.map((r) => [r.mode, r])),
        goal,
      }));
    }
    return 0;
  } finally {
    await fleet?.close().catch(() => {});
    await Promise.all(servers.map((s) => s.close().catch(() => {})));
    await engine.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  let o: Options | "help";
  try {
    o = parse(process.argv.slice(2));
  } catch (err) {
    console.error(`whole-call bench: ${(err as Error).message}`);
    return 2;
  }
  if (o === "help") {
    console.log(HELP);
    return 0;
  }
  try {
    return await run(o);
  } catch (err) {
    const e = err as Error & { code?: string };
    console.error(`whole-call bench failed: ${e.code ? `${e.code}: ` : ""}${e.message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(await main());
