/**
 * npm run bench:browser -- [--json] [--loss 0.05,0.1] [--seconds 20] [--seed 1] [--paths classic,layered,resilient]
 *
 * Chromium as the sender, the way people use the product: Debian's Chromium with a fake camera
 * playing a synthetic sign clip opens the page, and its media goes through the project's UDP relay
 * (sfu/link/relay-path.ts; 50 ms each way, Bernoulli loss on the uplink). For each loss rate and
 * each receive path the server gives a browser (`browserReceivePolicy`: classic = NACK, a 300 ms
 * frame wait, PLI; layered = the page sends VP8 temporal layers (L1T3) and only the base layer is
 * repaired and waited for; resilient = no repair, a 100 ms wait, the previous frame stands in), one call:
 * after a warm-up, a window of `seconds` in which the server's frame delay (capture to available,
 * p50 / p95 over the last seconds x 15 frames, about the window's), decoded frames a second and keyframe requests are taken,
 * and the page's uplink (its own getStats) is compared with the server's rate target over 10 s
 * windows; then the sign's questions are asked on the page and the answers scored.
 *
 * Output: configuration, progress, a table; with --json the last line is one JSON object
 * (issue 14's shape): {"loss":[{"name","classic":{p50Ms,p95Ms,decodedFps,right,asked,...},
 * "resilient":{...}}],"detail":null,"rateCompliance":{"maxRatio"}}, where `resilient` is the
 * loss-resilient path a browser gets: layered when it was run, else resilient. `detail` (the
 * uplink at which the AI reads the sign per region method) is not measured yet (null).
 *
 * The server runs in this process with the embedded OCR engine; Chromium is a child process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Browser, Page } from "playwright-core";
import { buildClient } from "../../client/build.ts";
import { clientRoutes } from "../../client/serve.ts";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { generateClip } from "../../encoder/synth/clip.ts";
import { CallServer, type CallMetrics } from "../call/call-server.ts";
import { RelayPath } from "../link/index.ts";
import type { ReceivePolicyName } from "../media/receive-policy.ts";
import { WorkerOcrEngine } from "../mllm/embedded/worker-engine.ts";
import { sleep } from "./bench-context.ts";
import { launchChromium, toY4m } from "./chromium.ts";
import { BenchError } from "./errors.ts";
import { answerIsRight, benchScene } from "./scene.ts";

export const HELP = `Usage: npm run bench:browser -- [options]

Chromium (fake camera, a synthetic sign) sends to the call server through the project's UDP
relay (50 ms each way, random loss on the uplink); per loss rate and receive path, one call.

  --loss LIST       uplink loss rates, comma-separated, each in [0, 0.5] (default 0.05,0.1)
  --one-way-ms MS   delay each way (default 50: a 100 ms round trip)
  --seconds S       measured window per call after a 6 s warm-up, 10..120 (default 20)
  --paths LIST      receive paths the server gives the browser, comma-separated: classic (NACK,
                    300 ms frame wait), layered (the page sends VP8 temporal layers L1T3; only
                    base-layer frames are repaired and waited for), resilient (no repair, 100 ms
                    wait) (default classic,layered,resilient)
  --questions N     questions asked per call after the window, 0..3 (default 2)
  --seed N          seed of the relay's loss draws and of the sign (default 1)
  --json            print one JSON object as the last line
  --help            this text

Per call: frame delay p50 / p95 (capture to available at the server, the window's frames),
decoded frames a second, keyframe requests, packets lost, answers right of asked, and the
page's uplink over the server's target (mean over each 10 s window; the worst is maxRatio).
`;

export interface BrowserBenchOptions {
  readonly loss: readonly number[];
  readonly oneWayMs: number;
  readonly seconds: number;
  readonly paths: readonly ReceivePolicyName[];
  readonly questions: number;
  readonly seed: number;
  readonly json: boolean;
}

export function parseBrowserBenchArgs(argv: readonly string[]): BrowserBenchOptions | "help" {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        loss: { type: "string" }, "one-way-ms": { type: "string" }, seconds: { type: "string" }, paths: { type: "string" },
        questions: { type: "string" }, seed: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" },
      },
    }).values;
  } catch (err) {
    throw new BenchError("INVALID_OPTION", `${(err as Error).message} (see --help)`);
  }
  if (v.help) return "help";
  const num = (name: string, raw: string | undefined, dflt: number, lo: number, hi: number, integer = false): number => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
      throw new BenchError("INVALID_OPTION", `--${name} must be ${integer ? "a whole number" : "a number"} from ${lo} to ${hi}, got "${raw}"`);
    }
    return n;
  };
  const loss = (v.loss ?? "0.05,0.1").split(",").map((s) => num("loss", s.trim(), 0, 0, 0.5));
  const paths = (v.paths ?? "classic,layered,resilient").split(",").map((s) => s.trim());
  for (const p of paths) if (p !== "classic" && p !== "resilient" && p !== "layered") throw new BenchError("INVALID_OPTION", `--paths takes classic, layered and/or resilient, got "${p}"`);
  return {
    loss,
    oneWayMs: num("one-way-ms", v["one-way-ms"], 50, 0, 1000),
    seconds: num("seconds", v.seconds, 20, 10, 120),
    paths: paths as ReceivePolicyName[],
    questions: num("questions", v.questions, 2, 0, 3, true),
    seed: num("seed", v.seed, 1, 0, 2 ** 31, true),
    json: v.json ?? false,
  };
}

export interface PathFigures {
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly decodedFps: number;
  readonly right: number;
  readonly asked: number;
  readonly keyframeRequests: number;
  readonly packetLossRate: number;
  readonly meanUplinkKbps: number | null;
  readonly maxRatio: number | null;
  readonly answers: readonly string[];
}

/** The worst 10 s mean of uplink / target (samples once a second), or null with under 10 samples. */
export function worstWindowRatio(samples: ReadonlyArray<{ readonly uplinkBps: number; readonly targetBps: number }>, windowSamples = 10): number | null {
  if (samples.length < windowSamples) return null;
  let worst = 0;
  for (let i = 0; i + windowSamples <= samples.length; i++) {
    const w = samples.slice(i, i + windowSamples);
    const up = w.reduce((a, s) => a + s.uplinkBps, 0) / windowSamples;
    const target = w.reduce((a, s) => a + s.targetBps, 0) / windowSamples;
    if (target > 0) worst = Math.max(worst, up / target);
  }
  return worst;
}

interface PageSnapshot {
  readonly connectionState: string;
  readonly uplink: { readonly bitrateBps: number } | null;
  readonly target: { readonly maxBitrateBps: number } | null;
}

const snap = (page: Page) => page.evaluate(() => (window as unknown as { aiCall: { snapshot(): unknown } }).aiCall.snapshot()) as Promise<PageSnapshot | null>;

async function pageWait(page: Page, cond: (s: PageSnapshot) => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await snap(page);
    if (s && cond(s)) return;
    if (Date.now() > end) throw new BenchError("TIMEOUT", `timed out after ${ms} ms waiting for ${what}; the page reported ${JSON.stringify(s)}`);
    await sleep(250);
  }
}

/** Asks on the page and waits for the AI's final answer to that question (the page's message list). */
async function askOnPage(page: Page, question: string, ms = 30_000): Promise<string> {
  const before = await page.locator("#messages li.ai").count();
  await page.evaluate((q) => (window as unknown as { aiCall: { ask(q: string): unknown } }).aiCall.ask(q), question);
  const end = Date.now() + ms;
  for (;;) {
    const items = page.locator("#messages li.ai");
    if ((await items.count()) > before) {
      const last = items.nth(before);
      if ((await last.getAttribute("aria-busy")) === null) return (await last.locator(".text").textContent()) ?? "";
    }
    if (Date.now() > end) throw new BenchError("TIMEOUT", `no answer to "${question}" within ${ms} ms`);
    await sleep(200);
  }
}

async function oneCall(o: BrowserBenchOptions, ctx: { browser: Browser; engine: WorkerOcrEngine; dist: string; ffmpeg: string; questions: ReadonlyArray<{ text: string; expect: string }> }, loss: number, path: ReceivePolicyName, log: (s: string) => void): Promise<PathFigures> {
  const server = new CallServer({
    secret: "bench-browser-secret-0123456789abcdef-01", ffmpeg: ctx.ffmpeg, model: ctx.engine, regionFinder: null, sendMaps: false,
    httpRoutes: clientRoutes(ctx.dist), receivePolicy: "resilient", browserReceivePolicy: path,
    // The frame delay over the window's frames (one sample per frame captured at 15 fps), not the warm-up's.
    frameDelayWindow: o.seconds * 15,
    ...(path === "classic" || path === "layered" ? { browserFrameWaitMs: 300 } : {}),
  });
  const addr = await server.listen(0, "127.0.0.1");
  const relay = await RelayPath.start({
    upstream: `ws://127.0.0.1:${addr.port}/ws`, httpUpstream: `http://127.0.0.1:${addr.port}`,
    uplink: { delayMs: o.oneWayMs, ...(loss > 0 ? { loss: { kind: "bernoulli" as const, p: loss } } : {}) },
    downlink: { delayMs: o.oneWayMs }, seed: o.seed,
  });
  const page = await ctx.browser.newPage();
  try {
    await page.goto(`${relay.origin}/?room=bench&name=chromium${path === "layered" ? "&layers=L1T3" : ""}`);
    await page.locator("#join").click();
    await pageWait(page, (s) => s.connectionState === "connected" && (s.uplink?.bitrateBps ?? 0) > 0, 30_000, "media through the relay");
    const metrics = (): CallMetrics => {
      const m = server.metrics()[0];
      if (!m) throw new BenchError("PHASE_FAILED", "the server has no call for the page");
      return m;
    };
    if (metrics().receivePolicy !== path) throw new BenchError("PHASE_FAILED", `the server gave the browser "${metrics().receivePolicy}", asked for "${path}"`);
    await sleep(6000); // warm-up: the sender's estimate climbs, the frame delay window fills
    const start = metrics();
    const t0 = Date.now();
    const samples: { uplinkBps: number; targetBps: number }[] = [];
    while (Date.now() - t0 < o.seconds * 1000) {
      await sleep(1000);
      const s = await snap(page);
      const target = metrics().targetBitrateBps;
      if (s?.uplink && target) samples.push({ uplinkBps: s.uplink.bitrateBps, targetBps: target });
    }
    const end = metrics();
    const elapsed = (Date.now() - t0) / 1000;
    const answers: string[] = [];
    let right = 0;
    for (const q of ctx.questions.slice(0, o.questions)) {
      const a = await askOnPage(page, q.text);
      answers.push(a);
      if (answerIsRight(a, q.expect)) right++;
    }
    const mean = samples.length > 0 ? samples.reduce((a, s) => a + s.uplinkBps, 0) / samples.length / 1000 : null;
    const fig: PathFigures = {
      p50Ms: end.frameDelayMs.p50 === null ? null : Math.round(end.frameDelayMs.p50),
      p95Ms: end.frameDelayMs.p95 === null ? null : Math.round(end.frameDelayMs.p95),
      decodedFps: Number(((end.framesDecoded - start.framesDecoded) / elapsed).toFixed(1)),
      right, asked: answers.length,
      keyframeRequests: end.keyframeRequests - start.keyframeRequests,
      packetLossRate: Number(end.packetLossRate.toFixed(3)),
      meanUplinkKbps: mean === null ? null : Math.round(mean),
      maxRatio: (() => { const r = worstWindowRatio(samples); return r === null ? null : Number(r.toFixed(2)); })(),
      answers,
    };
    log(`  loss ${loss} ${path}: frame delay p50 ${fig.p50Ms} p95 ${fig.p95Ms} ms, ${fig.decodedFps} decoded fps, ${fig.keyframeRequests} keyframe requests, loss seen ${(fig.packetLossRate * 100).toFixed(1)}%, uplink ${fig.meanUplinkKbps} kbps (worst 10 s ${fig.maxRatio} x target), ${right}/${answers.length} right ${JSON.stringify(answers)}`);
    return fig;
  } finally {
    await page.close().catch(() => {});
    await relay.close();
    await server.close();
  }
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  let o: BrowserBenchOptions | "help";
  try {
    o = parseBrowserBenchArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (o === "help") {
    console.log(HELP);
    return 0;
  }
  const ffmpeg = resolveFfmpeg({ env: process.env }).path;
  const scene = benchScene(o.seed, 1280, 720, 6);
  console.log("bench:browser configuration");
  console.log(`  sender: Chromium (fake camera, ${scene.spec.width}x${scene.spec.height} sign "${scene.sign.gate} / ${scene.sign.seat}"), the page as people use it; server: resilient policy, browsers on --paths, maps off, embedded engine`);
  console.log(`  link: UDP relay, ${o.oneWayMs} ms each way, uplink loss ${o.loss.join(" / ")} (Bernoulli, seed ${o.seed}); window ${o.seconds} s after a 6 s warm-up; ${o.questions} question(s) per call`);
  const dir = mkdtempSync(join(tmpdir(), "bench-browser-"));
  const engine = new WorkerOcrEngine();
  let browser: Browser | null = null;
  try {
    const dist = (await buildClient(join(dir, "dist"), { minify: true })).dir;
    const clip = await generateClip(ffmpeg, join(dir, "sign.mkv"), { ...scene.spec, fps: 15 });
    const y4m = await toY4m(ffmpeg, clip.path, join(dir, "sign.y4m"));
    await engine.warmUp();
    browser = await launchChromium({ y4m, allowCamera: true });
    const rows: Array<{ name: string } & Partial<Record<ReceivePolicyName, PathFigures>>> = [];
    let n = 0;
    const total = o.loss.length * o.paths.length;
    for (const loss of o.loss) {
      const row: { name: string } & Partial<Record<ReceivePolicyName, PathFigures>> = { name: `loss${Math.round(loss * 100)}-rtt${2 * o.oneWayMs}` };
      for (const path of o.paths) {
        console.log(`[${++n}/${total}] ${row.name} ${path}`);
        row[path] = await oneCall(o, { browser, engine, dist, ffmpeg, questions: scene.questions }, loss, path, (s) => console.log(s));
      }
      rows.push(row);
    }
    console.log("\ncondition          path       p50 ms  p95 ms  dec fps  PLIs  right  uplink kbps  worst 10 s / target");
    for (const r of rows) {
      for (const path of o.paths) {
        const f = r[path]!;
        console.log(`${r.name.padEnd(18)} ${path.padEnd(10)} ${String(f.p50Ms).padStart(6)}  ${String(f.p95Ms).padStart(6)}  ${String(f.decodedFps).padStart(7)}  ${String(f.keyframeRequests).padStart(4)}  ${`${f.right}/${f.asked}`.padStart(5)}  ${String(f.meanUplinkKbps).padStart(11)}  ${String(f.maxRatio).padStart(6)}`);
      }
      for (const other of ["layered", "resilient"] as const) {
        const f = r[other];
        if (r.classic && f && r.classic.p95Ms !== null && f.p95Ms !== null) {
          console.log(`${"".padEnd(18)} p95 classic - ${other}: ${r.classic.p95Ms - f.p95Ms} ms (goal >= 100, answers right)`);
        }
      }
    }
    const ratios = rows.flatMap((r) => o.paths.map((p) => r[p]?.maxRatio ?? null)).filter((x): x is number => x !== null);
    const maxRatio = ratios.length > 0 ? Math.max(...ratios) : null;
    console.log(`rate compliance: worst 10 s uplink / target ${maxRatio} (goal <= 1.15); region detail: not measured yet`);
    if (o.json) {
      const strip = (f: PathFigures | undefined) => (f ? { p50Ms: f.p50Ms, p95Ms: f.p95Ms, decodedFps: f.decodedFps, right: f.right, asked: f.asked, keyframeRequests: f.keyframeRequests, meanUplinkKbps: f.meanUplinkKbps, maxRatio: f.maxRatio } : null);
      console.log(JSON.stringify({
        config: { loss: o.loss, oneWayMs: o.oneWayMs, seconds: o.seconds, paths: o.paths, questions: o.questions, seed: o.seed },
        loss: rows.map((r) => ({ name: r.name, classic: strip(r.classic), resilient: strip(r.layered ?? r.resilient), layered: strip(r.layered), noRepair: strip(r.resilient) })),
        detail: null,
        rateCompliance: { maxRatio },
      }));
    }
    return 0;
  } catch (err) {
    console.error(err instanceof BenchError ? `bench:browser: ${err.message}` : err);
    return 1;
  } finally {
    await browser?.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(await main());
