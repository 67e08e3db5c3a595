/**
 * The call bench's first phases: question -> answer latency (with the receive-path latency the
 * server measured meanwhile) and the server's CPU per call. Each phase starts its calls, measures,
 * and ends them; the figures come back as plain values for the report.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { percentile } from "../media/stats-window.ts";
import { endCall, expectNoDecoders, metricsFor, sleep, startCall, type BenchContext, type SendConfig } from "./bench-context.ts";
import { CpuWindow, type CpuWindowResult } from "./proc-cpu.ts";
import { answerIsRight } from "./scene.ts";

export interface Pctl {
  readonly p50: number | null;
  readonly p95: number | null;
}

export const pctl = (xs: readonly number[]): Pctl => ({ p50: percentile(xs, 50) ?? null, p95: percentile(xs, 95) ?? null });

export interface QuestionPhaseResult {
  readonly asked: number;
  readonly answered: number;
  readonly right: number;
  readonly rightByQuestion: Record<string, { asked: number; right: number }>;
  readonly firstChunkMs: Pctl;
  readonly finalMs: Pctl;
  /** The server's own question -> first token (CallMetrics.questions). */
  readonly serverFirstTokenMs: Pctl;
  readonly receiveLatencyMs: Pctl;
  readonly framesLost: number;
  readonly framesLate: number;
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** Sampled every 500 ms while asking: the worst p95 of the last 100 frames, the lowest frame rate. */
  readonly worstReceiveP95Ms: number | null;
  readonly minFrameRate: number | null;
  /** CPU while asking (the OCR engine runs in the server's process). */
  readonly cpu: CpuWindowResult;
  readonly samples: ReadonlyArray<{ question: string; firstChunkMs: number | null; finalMs: number; answer: string; right: boolean }>;
}

const elMs = (ns: number) => Math.round(ns / 1e5) / 10;

export async function questionPhase(ctx: BenchContext, send: SendConfig, count: number): Promise<QuestionPhaseResult> {
  const room = "questions";
  ctx.progress(`[questions] joining ${send.width}x${send.height} ${send.fps} fps ${send.bitrateBps / 1000} kbps publisher`);
  await startCall(ctx, room, send);
  await sleep(2000);
  const el = monitorEventLoopDelay({ resolution: 10 });
  el.enable();
  const cpuWin = new CpuWindow(ctx.fleet.pid);
  const samples: Array<QuestionPhaseResult["samples"][number]> = [];
  const byQ: Record<string, { asked: number; right: number }> = {};
  let worstP95: number | null = null;
  let minFps: number | null = null;
  const sampler = setInterval(() => {
    const m = metricsFor(ctx, room);
    if (!m) return;
    if (m.receiveLatencyMs.p95 !== null) worstP95 = Math.max(worstP95 ?? 0, m.receiveLatencyMs.p95);
    if (m.frameRate !== null) minFps = Math.min(minFps ?? Infinity, m.frameRate);
  }, 500);
  try {
    for (let i = 0; i < count; i++) {
      const q = ctx.scene.questions[i % ctx.scene.questions.length]!;
      let r: { firstChunkMs: number | null; finalMs: number; text: string };
      try {
        r = await ctx.fleet.request({ type: "ask", callId: room, text: q.text, timeoutMs: 30_000 }, 35_000);
      } catch (err) {
        // A lost answer is a finding, not the end of the run.
        ctx.problems.push(`question ${i + 1} (${q.text}) got no answer: ${(err as Error).message}`);
        r = { firstChunkMs: null, finalMs: 30_000, text: "" };
      }
      const right = answerIsRight(r.text, q.expect);
      const k = (byQ[q.expect] ??= { asked: 0, right: 0 });
      k.asked++;
      if (right) k.right++;
      samples.push({ question: q.text, firstChunkMs: r.firstChunkMs, finalMs: r.finalMs, answer: r.text, right });
      ctx.progress(
        `[questions] ${String(i + 1).padStart(2)}/${count} first ${fmtMs(r.firstChunkMs)} final ${fmtMs(r.finalMs)} ` +
          `${right ? "right" : "WRONG"} (want ${q.expect}): ${JSON.stringify(r.text.slice(0, 80))}`,
      );
    }
  } finally {
    el.disable();
    clearInterval(sampler);
  }
  const cpu = cpuWin.end();
  const m = metricsFor(ctx, room);
  await endCall(ctx, room);
  await expectNoDecoders(ctx, "the question call ended");
  const firsts = samples.map((s) => s.firstChunkMs).filter((v): v is number => v !== null);
  const serverFirst = (m?.questions ?? []).map((q) => q.firstTokenMs).filter((v): v is number => v !== null);
  return {
    asked: samples.length,
    answered: firsts.length,
    right: samples.filter((s) => s.right).length,
    rightByQuestion: byQ,
    firstChunkMs: pctl(firsts),
    finalMs: pctl(samples.map((s) => s.finalMs)),
    serverFirstTokenMs: pctl(serverFirst),
    receiveLatencyMs: { p50: m?.receiveLatencyMs.p50 ?? null, p95: m?.receiveLatencyMs.p95 ?? null },
    framesLost: m?.framesLost ?? 0,
    framesLate: m?.framesLate ?? 0,
    eventLoopDelayP99Ms: elMs(el.percentile(99)),
    eventLoopDelayMaxMs: elMs(el.max),
    worstReceiveP95Ms: worstP95,
    minFrameRate: minFps,
    cpu,
    samples,
  };
}

export interface CpuPhaseResult {
  readonly calls: number;
  readonly idle: CpuWindowResult;
  readonly window: CpuWindowResult;
  /** (Node + decoders in the window - Node idle) / calls, percent of one core. */
  readonly perCallPercent: number;
  readonly receiveLatencyMs: Pctl;
  readonly frameRate: number | null;
  readonly eventLoopDelayP99Ms: number;
  readonly rssMb: number;
}

/**
 * The server's CPU per call. Counted: this Node process (process.cpuUsage: werift, SRTP, jitter
 * buffer, the decoders' RGB pipes, the idle OCR engine, plus the bench's own 1 Hz polling, which is
 * negligible) and the server's decoder ffmpeg (children of this process reading IVF on stdin, from
 * /proc). Not counted, measured apart: the publishers, which run in the worker process with their
 * own ffmpeg. Not separable: nothing of the server runs elsewhere, but on 2 cores the publishers'
 * encoders compete for the same cores, which slows the server's work without adding to its count.
 */
export async function cpuPhase(ctx: BenchContext, send: SendConfig, calls: number, windowMs = 10_000): Promise<CpuPhaseResult> {
  ctx.progress(`[cpu] idle baseline: 3 s with no call`);
  const idleWin = new CpuWindow(ctx.fleet.pid);
  await sleep(3000);
  const idle = idleWin.end();
  const rooms = Array.from({ length: calls }, (_, i) => `cpu-${i + 1}`);
  for (const room of rooms) {
    ctx.progress(`[cpu] joining ${room}: ${send.width}x${send.height} ${send.fps} fps ${send.bitrateBps / 1000} kbps`);
    await startCall(ctx, room, send);
  }
  await sleep(3000); // past the first keyframe and the first rate target
  ctx.progress(`[cpu] measuring ${windowMs / 1000} s with ${calls} call(s), no questions`);
  const el = monitorEventLoopDelay({ resolution: 10 });
  el.enable();
  const win = new CpuWindow(ctx.fleet.pid);
  await sleep(windowMs);
  const window = win.end();
  el.disable();
  const m = metricsFor(ctx, rooms[0]!);
  const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  for (const room of rooms) await endCall(ctx, room);
  await expectNoDecoders(ctx, "the CPU calls ended");
  // Only the Node process has an idle cost: no decoder runs without a call, and decoder CPU that
  // shows up in the idle window is earlier calls' decoders being reaped (it once made this negative).
  const idleServer = idle.nodePercent;
  return {
    calls,
    idle,
    window,
    perCallPercent: (window.nodePercent + window.decoderPercent - idleServer) / calls,
    receiveLatencyMs: { p50: m?.receiveLatencyMs.p50 ?? null, p95: m?.receiveLatencyMs.p95 ?? null },
    frameRate: m?.frameRate ?? null,
    eventLoopDelayP99Ms: elMs(el.percentile(99)),
    rssMb,
  };
}

export function fmtMs(v: number | null | undefined): string {
  return v === null || v === undefined ? "-" : `${Math.round(v)} ms`;
}
