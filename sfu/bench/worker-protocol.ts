/**
 * The IPC protocol between the call bench (the server's process) and its publisher worker (a child
 * Node process that runs the HeadlessPublishers). Publishers run apart so that the server's CPU is
 * this process's CPU plus its decoders', with no sender work mixed in.
 *
 * Requests carry an `id`; the worker answers each with one `reply` of that id. The worker also
 * sends `event`s (a publisher's error, a warning it logged). Both sides parse what they receive.
 */
import { z } from "zod";

export const StartCall = z.object({
  type: z.literal("start"),
  id: z.number().int(),
  callId: z.string().min(1),
  serverUrl: z.string().min(1),
  token: z.string().min(1),
  ffmpeg: z.string().min(1),
  input: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().positive(),
  bitrateBps: z.number().positive(),
  /** x264 preset; absent = the publisher's default (veryfast). */
  speed: z.string().optional(),
});

export const AskQuestion = z.object({
  type: z.literal("ask"),
  id: z.number().int(),
  callId: z.string().min(1),
  text: z.string().min(1),
  timeoutMs: z.number().positive(),
});

export const GetStats = z.object({ type: z.literal("stats"), id: z.number().int() });
export const CloseCall = z.object({ type: z.literal("close"), id: z.number().int(), callId: z.string().min(1) });
export const CloseAll = z.object({ type: z.literal("close-all"), id: z.number().int() });

export const WorkerRequest = z.discriminatedUnion("type", [StartCall, AskQuestion, GetStats, CloseCall, CloseAll]);
export type WorkerRequest = z.infer<typeof WorkerRequest>;
/** A request without its id (the client numbers them). */
export type RequestBody<T extends WorkerRequest["type"]> = Omit<Extract<WorkerRequest, { type: T }>, "id">;

export const StartResult = z.object({ childPids: z.array(z.number().int()) });

export const AskResult = z.object({
  /** ask() to the first non-empty chunk; null when the answer had none. */
  firstChunkMs: z.number().nullable(),
  /** ask() to the end of the answer stream. */
  finalMs: z.number(),
  text: z.string(),
});
export type AskResult = z.infer<typeof AskResult>;

export const PublisherSnapshot = z.object({
  callId: z.string(),
  state: z.string(),
  bitrateBps: z.number(),
  framerate: z.number(),
  bitrateCapBps: z.number(),
  mapVersion: z.number().nullable(),
  framesSent: z.number(),
  framesDroppedBusy: z.number(),
  restarts: z.number(),
  encoderFailures: z.number(),
  /** Video payload and FEC parity bytes sent since the call started. */
  bytesSent: z.number(),
  childPids: z.array(z.number().int()),
});
export type PublisherSnapshot = z.infer<typeof PublisherSnapshot>;
export const StatsResult = z.object({ calls: z.array(PublisherSnapshot) });
export const EmptyResult = z.object({});

export const RESULT_SCHEMAS = {
  start: StartResult,
  ask: AskResult,
  stats: StatsResult,
  close: EmptyResult,
  "close-all": EmptyResult,
} as const;
export type ResultOf<T extends WorkerRequest["type"]> = z.infer<(typeof RESULT_SCHEMAS)[T]>;

export const WorkerReply = z.discriminatedUnion("ok", [
  z.object({ type: z.literal("reply"), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal("reply"), id: z.number().int(), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);

export const WorkerEvent = z.object({
  type: z.literal("event"),
  callId: z.string().nullable(),
  level: z.enum(["warn", "error"]),
  name: z.string(),
  message: z.string(),
});
export type WorkerEvent = z.infer<typeof WorkerEvent>;

export const FromWorker = z.union([WorkerReply, WorkerEvent]);
export type FromWorker = z.infer<typeof FromWorker>;

/** One line naming the first bad field, for errors. */
export function describeIssue(err: z.ZodError): string {
  const i = err.issues[0];
  return i ? `field "${i.path.join(".") || "(root)"}": ${i.message}` : err.message;
}
