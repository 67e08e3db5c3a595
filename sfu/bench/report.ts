/** The call bench's printed table and its JSON line (pure formatting of the phases' results). */
import type { CapacityResult } from "./capacity.ts";
import type { FairnessResult } from "./fairness.ts";
import { fmtMs, type CpuPhaseResult, type QuestionPhaseResult } from "./phases.ts";

const pc = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? "-" : `${v.toFixed(1)}%`);
const num = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : "-");

/** Windows where other programs used more than this share of one core are flagged. */
export const DISTURBED_PERCENT = 20;

export function resultTable(q: QuestionPhaseResult, cpu: CpuPhaseResult, cap: CapacityResult, sendQ: string, sendCap: string, fair?: FairnessResult): string {
  const right = Object.entries(q.rightByQuestion).map(([k, v]) => `${k} ${v.right}/${v.asked}`).join(", ");
  const lines = [
    "",
    `question -> answer, ${sendQ}, ${q.asked} questions one after another`,
    `  ask() -> first chunk         p50 ${fmtMs(q.firstChunkMs.p50).padStart(8)}   p95 ${fmtMs(q.firstChunkMs.p95).padStart(8)}`,
    `  ask() -> final chunk         p50 ${fmtMs(q.finalMs.p50).padStart(8)}   p95 ${fmtMs(q.finalMs.p95).padStart(8)}`,
    `  server: question -> 1st token p50 ${fmtMs(q.serverFirstTokenMs.p50).padStart(8)}   p95 ${fmtMs(q.serverFirstTokenMs.p95).padStart(8)}`,
    `  right answers                ${q.right}/${q.asked} (${right}); answered ${q.answered}/${q.asked}`,
    `  CPU while asking (% of one core): server Node ${pc(q.cpu.nodePercent)}, decoder ${pc(q.cpu.decoderPercent)}, publisher side ${pc(q.cpu.otherTreePercent)}, other programs ${pc(q.cpu.unaccountedPercent)}`,
    `  server event loop delay      p99 ${q.eventLoopDelayP99Ms} ms, max ${q.eventLoopDelayMaxMs} ms; frames lost ${q.framesLost}, late ${q.framesLate}; lowest 1-s fps ${q.minFrameRate ?? "-"}`,
    ...(fair
      ? [
        "",
        `fairness: one question in room B (${sendQ}), median of ${fair.rounds}`,
        `  alone                        ${fmtMs(fair.aloneMs).padStart(8)}`,
        `  while room A asks ${fair.floodSize} at once  ${fmtMs(fair.underFloodMs).padStart(8)}   (${(fair.underFloodMs / Math.max(1, fair.aloneMs)).toFixed(2)}x; A: ${fair.floodAnswered} answered, ${fair.floodRefused} refused as too many); B right ${fair.right}/${fair.asked}`,
        `  30 questions at 100/s in A     ${fair.memory.answered} answered, ${fair.memory.refused} refused; server RSS ${fair.memory.beforeMb} MB before, ${fair.memory.peakMb} MB at peak, ${fair.memory.afterMb} MB 5 s after (${fair.memory.afterMb - fair.memory.beforeMb >= 0 ? "+" : ""}${fair.memory.afterMb - fair.memory.beforeMb} MB)`,
      ]
      : []),
    "",
    "receive path: last packet of a frame -> decoded frame (server metrics, last 100 frames)",
    `  ${sendQ}, end of the questions   p50 ${fmtMs(q.receiveLatencyMs.p50).padStart(7)}   p95 ${fmtMs(q.receiveLatencyMs.p95).padStart(7)}   (worst p95 while asking ${fmtMs(q.worstReceiveP95Ms)})`,
    `  ${sendQ}, no questions           p50 ${fmtMs(cpu.receiveLatencyMs.p50).padStart(7)}   p95 ${fmtMs(cpu.receiveLatencyMs.p95).padStart(7)}`,
    "",
    `CPU per call, ${cpu.calls} call(s) of ${sendQ}, ${cpu.window.wallSec.toFixed(1)} s without questions (percent of one core)`,
    `  server Node process  ${pc(cpu.window.nodePercent).padStart(7)}   (idle ${pc(cpu.idle.nodePercent)})`,
    `  decoder ffmpeg       ${pc(cpu.window.decoderPercent).padStart(7)}   (pids ${cpu.window.decoderPids.join(", ") || "-"})`,
    `  per call             ${pc(cpu.perCallPercent).padStart(7)}   = (Node + decoders - Node idle) / ${cpu.calls}`,
    `  not counted: publisher worker + its ffmpeg ${pc(cpu.window.otherTreePercent)}, other programs ${pc(cpu.window.unaccountedPercent)}; machine busy ${pc(cpu.window.machineBusyPercent)} of all cores; server RSS ${cpu.rssMb} MB`,
    "",
    `capacity, ${sendCap} per call, senders on the same 2 cores (x264 ultrafast)`,
    " calls  pass  lost+late  min fps  asked  mean fps  recv p95  server CPU (Node + dec)  sender CPU  others  machine  sender drops  loop p99  RSS MB",
    ...cap.levels.map((l) =>
      [
        String(l.calls).padStart(6), (l.pass ? "yes" : "NO").padStart(5), num(l.worstLostOrLate).padStart(10), num(l.minFps).padStart(8), num(l.minTargetFps ?? NaN).padStart(6),
        num(l.meanFps, 1).padStart(9), fmtMs(l.worstReceiveP95Ms).padStart(9), `${pc(l.serverCpuPercent)} (${num(l.serverNodePercent)} + ${num(l.serverDecoderPercent)})`.padStart(24), pc(l.senderCpuPercent).padStart(11),
        pc(l.othersPercent).padStart(7), pc(l.machineBusyPercent).padStart(8), num(l.senderDroppedBusy).padStart(13), `${num(l.eventLoopDelayP99Ms, 1)} ms`.padStart(9), String(l.rssMb).padStart(7),
      ].join(" "),
    ),
    ...cap.levels.filter((l) => l.reason).map((l) => `  level ${l.calls}: ${l.reason}`),
    `  max calls: ${cap.maxCalls}${cap.reachedLimit ? " (every level tried passed: raise --max-calls to find the limit)" : ""}`,
  ];
  const d = disturbance(q, cpu, cap);
  if (d.length > 0) lines.push("", `WARNING: other programs used CPU during the measurements (% of one core): ${d.join(", ")}; the figures are disturbed, run again on a quiet machine`);
  return lines.join("\n");
}

/** Windows in which other programs used more than DISTURBED_PERCENT of one core. */
export function disturbance(q: QuestionPhaseResult, cpu: CpuPhaseResult, cap: CapacityResult): string[] {
  const all: Array<[string, number]> = [
    ["questions", q.cpu.unaccountedPercent],
    ["cpu window", cpu.window.unaccountedPercent],
    ...cap.levels.map((l): [string, number] => [`capacity level ${l.calls}`, l.othersPercent]),
  ];
  return all.filter(([, v]) => v > DISTURBED_PERCENT).map(([k, v]) => `${k} ${v.toFixed(0)}%`);
}

export function resultJson(
  q: QuestionPhaseResult, cpu: CpuPhaseResult, cap: CapacityResult, extra: Record<string, unknown>, fair?: FairnessResult,
): Record<string, unknown> {
  const r1 = (v: number | null) => (v === null || !Number.isFinite(v) ? null : Math.round(v * 10) / 10);
  return {
    answerLatencyMs: q.firstChunkMs,
    answerFinalLatencyMs: q.finalMs,
    serverFirstTokenMs: q.serverFirstTokenMs,
    answers: { asked: q.asked, answered: q.answered, right: q.right, byExpected: q.rightByQuestion },
    receiveLatencyMs: q.receiveLatencyMs,
    receiveLatencyWorstP95WhileAskingMs: q.worstReceiveP95Ms,
    receiveLatencyNoQuestionsMs: cpu.receiveLatencyMs,
    cpuPercentPerCall: r1(cpu.perCallPercent),
    cpu: {
      calls: cpu.calls, windowSec: r1(cpu.window.wallSec), nodePercent: r1(cpu.window.nodePercent), decoderPercent: r1(cpu.window.decoderPercent),
      idleNodePercent: r1(cpu.idle.nodePercent), publisherSidePercent: r1(cpu.window.otherTreePercent), otherProgramsPercent: r1(cpu.window.unaccountedPercent), machineBusyPercent: r1(cpu.window.machineBusyPercent),
    },
    maxCalls: cap.maxCalls,
    capacityReachedLimit: cap.reachedLimit,
    levels: cap.levels.map((l) => ({
      calls: l.calls, pass: l.pass, reason: l.reason, lostOrLate: l.worstLostOrLate, minFps: l.minFps, minTargetFps: l.minTargetFps, meanFps: r1(l.meanFps),
      receiveP95Ms: l.worstReceiveP95Ms, serverCpuPercent: r1(l.serverCpuPercent), serverNodePercent: r1(l.serverNodePercent), serverDecoderPercent: r1(l.serverDecoderPercent), senderCpuPercent: r1(l.senderCpuPercent), othersPercent: r1(l.othersPercent),
      machineBusyPercent: r1(l.machineBusyPercent), senderDroppedBusy: l.senderDroppedBusy, rssMb: l.rssMb,
    })),
    ...(fair ? { fairness: { aloneMs: fair.aloneMs, underFloodMs: fair.underFloodMs, rounds: fair.rounds, floodSize: fair.floodSize, floodAnswered: fair.floodAnswered, floodRefused: fair.floodRefused, right: fair.right, asked: fair.asked, memory: fair.memory } } : {}),
    disturbed: disturbance(q, cpu, cap),
    ...extra,
  };
}
