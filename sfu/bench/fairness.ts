/**
 * Fairness between rooms: how long one question in room B takes alone, and while room A floods
 * its AI peer with questions. The server queues questions per participant (a bounded number; the
 * rest get "too many questions" at once) and shares the model between rooms (sfu/agent/scheduler.ts,
 * the embedded engine's run order), so B's question should not wait for A's.
 *
 * The publishers stand for devices elsewhere, but run on this machine: while A's AI peer answers,
 * A's sender restarts its encoder for each region map and rate target, a burst of CPU a remote
 * device would spend on its own cores. During this phase the publisher process and the ffmpeg it
 * starts run at a lower CPU priority (nice 10), so that the figure is the server's, not the
 * co-located senders' (on a machine where that is refused, the phase runs as it is and says so).
 */
import { setPriority } from "node:os";
import { percentile } from "../media/stats-window.ts";
import { descendantsOf } from "./proc-cpu.ts";
import { endCall, sleep, startCall, type BenchContext, type SendConfig } from "./bench-context.ts";
import { answerIsRight } from "./scene.ts";

export interface FairnessResult {
  /** Median ask -> final answer in room B, alone and under room A's flood. */
  readonly aloneMs: number;
  readonly underFloodMs: number;
  readonly rounds: number;
  readonly floodSize: number;
  /** Of room A's flood questions: answered, and refused at once as too many. */
  readonly floodAnswered: number;
  readonly floodRefused: number;
  /** Room B's answers right (alone and under flood together). */
  readonly right: number;
  readonly asked: number;
  /** 30 questions at 100 a second in room A: server RSS before, at its peak, and 5 s after the last answer (MB). */
  readonly memory: { readonly beforeMb: number; readonly peakMb: number; readonly afterMb: number; readonly answered: number; readonly refused: number };
}

const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

const ROOM_A = "fair-a";
/** When B asks, after A's flood began, round after round. */
const FLOOD_OFFSETS_MS = [50, 400, 800] as const;
const ROOM_B = "fair-b";

/** Sets the nice value of a process and everything it started; false when the system refuses. */
function renice(pid: number, nice: number): boolean {
  try {
    for (const p of [pid, ...descendantsOf(pid).map((d) => d.pid)]) setPriority(p, nice);
    return true;
  } catch {
    return false;
  }
}

export async function fairnessPhase(ctx: BenchContext, sendA: SendConfig, sendB: SendConfig, rounds = 3, floodSize = 15): Promise<FairnessResult> {
  const niced = renice(ctx.fleet.pid, 10);
  ctx.progress(`[fairness] publishers at nice 10: ${niced ? "yes" : "NO (refused: the senders compete with the server at equal priority)"}`);
  try {
    return await fairnessRounds(ctx, sendA, sendB, rounds, floodSize);
  } finally {
    if (niced) renice(ctx.fleet.pid, 0);
  }
}

async function fairnessRounds(ctx: BenchContext, sendA: SendConfig, sendB: SendConfig, rounds: number, floodSize: number): Promise<FairnessResult> {
  ctx.progress(`[fairness] joining room A (flood, ${sendA.width}x${sendA.height}) and room B (${sendB.width}x${sendB.height})`);
  await startCall(ctx, ROOM_A, sendA);
  await startCall(ctx, ROOM_B, sendB);
  await sleep(2000);
  const q = ctx.scene.questions[0]!;
  const alone: number[] = [];
  const flooded: number[] = [];
  let right = 0;
  let floodAnswered = 0;
  let floodRefused = 0;
  let memory: FairnessResult["memory"] = { beforeMb: 0, peakMb: 0, afterMb: 0, answered: 0, refused: 0 };
  const askB = async (): Promise<number> => {
    const r = await ctx.fleet.request({ type: "ask", callId: ROOM_B, text: q.text, timeoutMs: 30_000 }, 35_000);
    if (answerIsRight(r.text, q.expect)) right++;
    return r.finalMs;
  };
  try {
    for (let i = 0; i < rounds; i++) {
      const a = await askB();
      alone.push(a);
      await sleep(500);
      const flood = Array.from({ length: floodSize }, () =>
        ctx.fleet.request({ type: "ask", callId: ROOM_A, text: q.text, timeoutMs: 60_000 }, 65_000).catch(() => ({ text: "", finalMs: 0, firstChunkMs: null })),
      );
      // B asks at a different moment of A's flood each round: just after it (A's first question
      // barely started), and further into it (A has had model time already).
      const offset = FLOOD_OFFSETS_MS[i % FLOOD_OFFSETS_MS.length]!;
      await sleep(offset);
      const b = await askB();
      flooded.push(b);
      const aAnswers = await Promise.all(flood);
      const refused = aAnswers.filter((x) => /too many questions/i.test(x.text)).length;
      floodRefused += refused;
      floodAnswered += aAnswers.length - refused;
      ctx.progress(`[fairness] round ${i + 1}/${rounds}: B alone ${a.toFixed(0)} ms, B asked ${offset} ms into A's flood of ${floodSize} ${b.toFixed(0)} ms (A: ${aAnswers.length - refused} answered, ${refused} refused)`);
      await sleep(1000);
    }
    memory = await memoryUnderFlood(ctx, q.text);
  } finally {
    await endCall(ctx, ROOM_A).catch(() => {});
    await endCall(ctx, ROOM_B).catch(() => {});
  }
  return {
    aloneMs: Math.round(percentile(alone, 50) ?? 0),
    underFloodMs: Math.round(percentile(flooded, 50) ?? 0),
    rounds, floodSize, floodAnswered, floodRefused, right, asked: 2 * rounds, memory,
  };
}

/** The probe: 30 questions at 100 a second into one room; the server's memory is sampled. */
async function memoryUnderFlood(ctx: BenchContext, text: string): Promise<FairnessResult["memory"]> {
  await sleep(1000);
  const beforeMb = rssMb();
  let peakMb = beforeMb;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMb())), 50);
  const asks: Array<Promise<{ text: string }>> = [];
  for (let i = 0; i < 30; i++) {
    asks.push(ctx.fleet.request({ type: "ask", callId: ROOM_A, text, timeoutMs: 60_000 }, 65_000).catch(() => ({ text: "" })));
    await sleep(10);
  }
  const answers = await Promise.all(asks);
  await sleep(5000);
  clearInterval(sampler);
  const afterMb = rssMb();
  const refused = answers.filter((a) => /too many questions/i.test(a.text)).length;
  ctx.progress(`[fairness] 30 questions at 100/s in room A: ${answers.length - refused} answered, ${refused} refused; server RSS ${beforeMb} MB before, ${peakMb} MB at peak, ${afterMb} MB 5 s after`);
  return { beforeMb, peakMb, afterMb, answered: answers.length - refused, refused };
}
