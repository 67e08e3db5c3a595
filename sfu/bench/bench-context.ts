/**
 * What every phase of the call bench shares: the server, the publisher worker, the clips, a
 * counter of the server's log events, and helpers to start a call and wait for its video.
 */
import type { CallMetrics, CallServer } from "../call/call-server.ts";
import { fetchToken } from "../publisher/signaling-client.ts";
import type { Logger } from "../signaling/types.ts";
import { BenchError } from "./errors.ts";
import { childrenOf, isReceiveDecoder, readCmdline } from "./proc-cpu.ts";
import type { PublisherFleet } from "./publisher-fleet.ts";
import type { BenchScene } from "./scene.ts";

export interface SendConfig {
  readonly input: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bitrateBps: number;
  /** x264 preset; undefined = the publisher's default (veryfast). */
  readonly speed?: string;
}

export interface BenchContext {
  readonly server: CallServer;
  readonly url: string;
  readonly fleet: PublisherFleet;
  readonly ffmpeg: string;
  readonly scene: BenchScene;
  readonly serverLog: LogCounter;
  /** Findings about the server or the publisher, printed at the end and in the JSON. */
  readonly problems: string[];
  progress(line: string): void;
}

/** Counts the server's structured log events by name and level, keeping the first fields of each. */
export class LogCounter implements Logger {
  readonly events = new Map<string, { level: string; count: number; first: string }>();
  private add(level: string, name: string, fields: object): void {
    const e = this.events.get(name);
    if (e) e.count++;
    else this.events.set(name, { level, count: 1, first: safeJson(fields).slice(0, 300) });
  }
  info(name: string, fields: object): void {
    this.add("info", name, fields);
  }
  warn(name: string, fields: object): void {
    this.add("warn", name, fields);
  }
  error(name: string, fields: object): void {
    this.add("error", name, fields);
  }
  counts(): Record<string, number> {
    return Object.fromEntries([...this.events].map(([k, v]) => [k, v.count]));
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (x instanceof Error ? `${x.name}: ${x.message}` : typeof x === "bigint" ? String(x) : x));
  } catch {
    return String(v);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new BenchError("PHASE_FAILED", `timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export function metricsFor(ctx: BenchContext, room: string): CallMetrics | undefined {
  return ctx.server.metrics().find((m) => m.room === room);
}

/** Joins a publisher to `room` (its own room) and waits until the server decodes >= `minFps`. */
export async function startCall(ctx: BenchContext, room: string, send: SendConfig, minFps = 10): Promise<void> {
  const token = await fetchToken(ctx.url, room, `bench-${room}`);
  await ctx.fleet.request({ type: "start", callId: room, serverUrl: ctx.url, token, ffmpeg: ctx.ffmpeg, ...send }, 30_000);
  await waitFor(() => (metricsFor(ctx, room)?.frameRate ?? 0) >= minFps, 20_000, `${minFps} fps of ${room}'s video at the server`);
}

/** Leaves `room` and checks the server let go of the call and its decoder; a miss is a problem. */
export async function endCall(ctx: BenchContext, room: string): Promise<void> {
  await ctx.fleet.request({ type: "close", callId: room }, 15_000);
  try {
    await waitFor(() => metricsFor(ctx, room) === undefined, 5000, `the server to drop ${room}`);
  } catch {
    ctx.problems.push(`server: the call in ${room} was still listed 5 s after its publisher left`);
  }
}

/** The server's stream decoders now running (ffmpeg children of this process reading IVF). */
export function serverDecoderPids(): number[] {
  return childrenOf(process.pid).filter((c) => isReceiveDecoder(readCmdline(c.pid))).map((c) => c.pid);
}

/** After every call has ended: no decoder may be left. */
export async function expectNoDecoders(ctx: BenchContext, when: string): Promise<void> {
  try {
    await waitFor(() => serverDecoderPids().length === 0, 5000, "decoders to exit");
  } catch {
    ctx.problems.push(`server: decoder ffmpeg still running 5 s after ${when}: pids ${serverDecoderPids().join(", ")}`);
  }
}
