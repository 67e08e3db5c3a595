/**
 * Capacity: calls added one at a time (each its own room), each level held, then judged by the
 * server's metrics. A level passes when no call lost a frame (lost or late: a late frame came after
 * its deadline and was of no use either) and every call's received frame rate (frames decoded in
 * the last second, sampled once a second) stayed within `fpsSlack` of the frame rate the server
 * asked that call for (its rate target: under the resilient policy the frame-rate target, e.g. 10
 * fps for a 640x360 300 kbps call, not the camera's 15). A target that just rose is judged by the
 * lower of it and the one before, as the sender needs a moment to follow. The ramp stops at the
 * first failure.
 *
 * The senders run on the same machine: on 2 cores their ffmpeg (decode + x264 encode per call)
 * competes with the server for CPU, so the figure is a lower bound on the server's own capacity.
 * They use x264's ultrafast preset and a 640x360 source clip to keep their share small, and the
 * table shows their CPU and their own dropped frames so a sender-limited level can be recognised.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { CallMetrics } from "../call/call-server.ts";
import { endCall, expectNoDecoders, metricsFor, sleep, startCall, type BenchContext, type SendConfig } from "./bench-context.ts";
import { CpuWindow } from "./proc-cpu.ts";
import type { PublisherSnapshot } from "./worker-protocol.ts";

export interface CallAtLevel {
  readonly room: string;
  readonly lostOrLate: number;
  readonly minFps: number;
  readonly meanFps: number;
  /** Lowest frame rate the server asked this call for during the hold. */
  readonly minTargetFps: number | null;
  /** Largest shortfall of a 1-s fps sample under the asked rate (negative: always above it). */
  readonly worstFpsShortfall: number;
  readonly receiveP95Ms: number | null;
  /** Sender side: frames the publisher's encoder dropped as busy during the hold. */
  readonly senderDroppedBusy: number;
  readonly senderFps: number;
}

export interface LevelResult {
  readonly calls: number;
  readonly pass: boolean;
  /** Why it failed (or could not be measured). */
  readonly reason: string | null;
  readonly worstLostOrLate: number;
  readonly minFps: number;
  readonly meanFps: number;
  /** Lowest frame rate the server asked any call for. */
  readonly minTargetFps: number | null;
  readonly worstReceiveP95Ms: number | null;
  /** Server CPU: Node process + its decoders, and the two apart (percent of one core). */
  readonly serverCpuPercent: number;
  readonly serverNodePercent: number;
  readonly serverDecoderPercent: number;
  readonly senderCpuPercent: number | null;
  /** Other programs on the machine during the hold, percent of one core. */
  readonly othersPercent: number;
  readonly machineBusyPercent: number;
  readonly senderDroppedBusy: number;
  readonly eventLoopDelayP99Ms: number;
  readonly rssMb: number;
  readonly perCall: readonly CallAtLevel[];
}

export interface CapacityResult {
  readonly maxCalls: number;
  readonly levels: readonly LevelResult[];
  /** True when the last level tried passed: the server may take more. */
  readonly reachedLimit: boolean;
}

export async function capacityPhase(ctx: BenchContext, send: SendConfig, maxCalls: number, holdMs: number, fpsSlack = 2): Promise<CapacityResult> {
  const rooms: string[] = [];
  const levels: LevelResult[] = [];
  try {
    for (let level = 1; level <= maxCalls; level++) {
      const room = `cap-${level}`;
      ctx.progress(`[capacity] level ${level}: joining ${room}`);
      try {
        rooms.push(room);
        await startCall(ctx, room, send);
      } catch (err) {
        levels.push(failedLevel(level, `call ${level} did not start: ${(err as Error).message}`));
        ctx.progress(`[capacity] level ${level}: FAIL (${levels.at(-1)!.reason})`);
        break;
      }
      await sleep(2000); // the new call's first keyframe and rate target
      const result = await holdLevel(ctx, rooms, holdMs, fpsSlack, send.fps);
      levels.push(result);
      ctx.progress(
        `[capacity] level ${level}: ${result.pass ? "pass" : "FAIL"} lost+late ${result.worstLostOrLate}, min ${result.minFps} fps (asked ${result.minTargetFps ?? "?"}), ` +
          `server CPU ${result.serverCpuPercent.toFixed(0)}%, machine ${result.machineBusyPercent.toFixed(0)}%${result.reason ? ` (${result.reason})` : ""}`,
      );
      if (!result.pass) break;
    }
  } finally {
    for (const room of rooms) await endCall(ctx, room).catch(() => {});
  }
  await expectNoDecoders(ctx, "the capacity calls ended");
  let maxCalls_ = 0;
  for (const l of levels) {
    if (!l.pass) break;
    maxCalls_ = l.calls;
  }
  return { maxCalls: maxCalls_, levels, reachedLimit: levels.length > 0 && levels.at(-1)!.pass };
}

async function holdLevel(ctx: BenchContext, rooms: readonly string[], holdMs: number, fpsSlack: number, cameraFps: number): Promise<LevelResult> {
  const before = snapshot(ctx, rooms);
  const senders0 = await senderStats(ctx);
  const fps = new Map<string, number[]>(rooms.map((r) => [r, []]));
  // The rate each sample is judged against: the lower of the target now and a second ago.
  const asked = new Map<string, Array<number | null>>(rooms.map((r) => [r, []]));
  const lastTarget = new Map<string, number | null>(rooms.map((r) => [r, metricsFor(ctx, r)?.targetFramerate ?? null]));
  const el = monitorEventLoopDelay({ resolution: 10 });
  el.enable();
  const cpu = new CpuWindow(ctx.fleet.pid);
  for (let t = 0; t < holdMs; t += 1000) {
    await sleep(1000);
    for (const r of rooms) {
      const m = metricsFor(ctx, r);
      fps.get(r)!.push(m?.frameRate ?? 0);
      const now = m?.targetFramerate ?? null;
      const before = lastTarget.get(r) ?? null;
      asked.get(r)!.push(now === null ? before : before === null ? now : Math.min(now, before));
      lastTarget.set(r, now);
    }
  }
  const c = cpu.end();
  el.disable();
  const after = snapshot(ctx, rooms);
  const senders1 = await senderStats(ctx);
  const perCall: CallAtLevel[] = rooms.map((room) => {
    const b = before.get(room);
    const a = after.get(room);
    const xs = fps.get(room)!;
    const targets = asked.get(room)!;
    // Without a target (the call never got one) the camera's rate is what was asked.
    const shortfalls = xs.map((x, i) => (targets[i] ?? cameraFps) - x);
    const known = targets.filter((t): t is number => t !== null);
    const s0 = senders0.get(room);
    const s1 = senders1.get(room);
    return {
      room,
      lostOrLate: a && b ? a.framesLost + a.framesLate - b.framesLost - b.framesLate : NaN,
      minFps: Math.min(...xs),
      meanFps: xs.reduce((x, y) => x + y, 0) / xs.length,
      minTargetFps: known.length ? Math.min(...known) : null,
      worstFpsShortfall: Math.max(...shortfalls),
      receiveP95Ms: a?.receiveLatencyMs.p95 ?? null,
      senderDroppedBusy: s0 && s1 ? s1.framesDroppedBusy - s0.framesDroppedBusy : NaN,
      senderFps: s0 && s1 ? ((s1.framesSent - s0.framesSent) * 1000) / holdMs : NaN,
    };
  });
  const gone = rooms.filter((r) => !after.has(r));
  const lossy = perCall.filter((p) => !(p.lostOrLate === 0));
  const slow = perCall.filter((p) => p.worstFpsShortfall > fpsSlack);
  const reasons = [
    gone.length ? `call(s) gone from the server: ${gone.join(", ")}` : "",
    lossy.length ? `${lossy.map((p) => `${p.room} lost ${p.lostOrLate}`).join(", ")}` : "",
    slow.length ? `${slow.map((p) => `${p.room} min ${p.minFps} fps, ${p.worstFpsShortfall} under the ${p.minTargetFps ?? cameraFps} fps asked`).join(", ")}` : "",
  ].filter((s) => s !== "");
  const p95s = perCall.map((p) => p.receiveP95Ms).filter((v): v is number => v !== null);
  return {
    calls: rooms.length,
    pass: reasons.length === 0,
    reason: reasons.length ? reasons.join("; ") : null,
    worstLostOrLate: Math.max(...perCall.map((p) => p.lostOrLate)),
    minFps: Math.min(...perCall.map((p) => p.minFps)),
    meanFps: perCall.reduce((s, p) => s + p.meanFps, 0) / perCall.length,
    minTargetFps: perCall.some((p) => p.minTargetFps !== null) ? Math.min(...perCall.flatMap((p) => (p.minTargetFps === null ? [] : [p.minTargetFps]))) : null,
    worstReceiveP95Ms: p95s.length ? Math.max(...p95s) : null,
    serverCpuPercent: c.nodePercent + c.decoderPercent,
    serverNodePercent: c.nodePercent,
    serverDecoderPercent: c.decoderPercent,
    senderCpuPercent: c.otherTreePercent,
    othersPercent: c.unaccountedPercent,
    machineBusyPercent: c.machineBusyPercent,
    senderDroppedBusy: perCall.reduce((s, p) => s + p.senderDroppedBusy, 0),
    eventLoopDelayP99Ms: Math.round(el.percentile(99) / 1e5) / 10,
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    perCall,
  };
}

function snapshot(ctx: BenchContext, rooms: readonly string[]): Map<string, CallMetrics> {
  const all = ctx.server.metrics();
  return new Map(rooms.map((r) => [r, all.find((m) => m.room === r)] as const).filter((e): e is [string, CallMetrics] => e[1] !== undefined));
}

async function senderStats(ctx: BenchContext): Promise<Map<string, PublisherSnapshot>> {
  const s = await ctx.fleet.request({ type: "stats" }, 5000);
  return new Map(s.calls.map((c) => [c.callId, c]));
}

function failedLevel(calls: number, reason: string): LevelResult {
  return {
    calls, pass: false, reason, worstLostOrLate: NaN, minFps: NaN, meanFps: NaN, minTargetFps: null, worstReceiveP95Ms: null, serverCpuPercent: NaN, serverNodePercent: NaN, serverDecoderPercent: NaN,
    senderCpuPercent: null, othersPercent: NaN, machineBusyPercent: NaN, senderDroppedBusy: NaN, eventLoopDelayP99Ms: NaN, rssMb: Math.round(process.memoryUsage().rss / 2 ** 20), perCall: [],
  };
}
