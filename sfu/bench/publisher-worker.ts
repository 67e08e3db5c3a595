/**
 * The call bench's publisher worker: a child Node process (forked by publisher-fleet.ts) that runs
 * HeadlessPublishers on the bench's orders, so their Node work (packetising, SRTP, FLV parsing)
 * and their ffmpeg processes are not counted as the server's. It exits when its parent goes away.
 */
import { HeadlessPublisher } from "../publisher/publisher.ts";
import type { Logger } from "../signaling/types.ts";
import { describeIssue, WorkerRequest, type AskResult, type FromWorker, type PublisherSnapshot } from "./worker-protocol.ts";

const calls = new Map<string, HeadlessPublisher>();
let shuttingDown: Promise<void> | null = null;

function send(msg: FromWorker): void {
  if (process.connected) process.send!(msg);
}

function event(callId: string | null, level: "warn" | "error", name: string, message: string): void {
  send({ type: "event", callId, level, name, message: message.slice(0, 500) });
}

function logger(callId: string): Logger {
  const fwd = (level: "warn" | "error") => (name: string, fields: object) => event(callId, level, name, JSON.stringify(fields));
  return { info() {}, warn: fwd("warn"), error: fwd("error") };
}

function call(callId: string): HeadlessPublisher {
  const p = calls.get(callId);
  if (!p) throw Object.assign(new Error(`no call ${JSON.stringify(callId)} in this worker`), { code: "NO_CALL" });
  return p;
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.type) {
    case "start": {
      if (calls.has(req.callId)) throw Object.assign(new Error(`call ${req.callId} already runs`), { code: "DUPLICATE" });
      const p = new HeadlessPublisher({
        serverUrl: req.serverUrl,
        token: req.token,
        iceAdditionalHostAddresses: ["127.0.0.1"],
        logger: logger(req.callId),
        encoder: {
          ffmpeg: req.ffmpeg, input: req.input, loop: true,
          width: req.width, height: req.height, fps: req.fps, bitrateBps: req.bitrateBps,
          ...(req.speed !== undefined ? { speed: req.speed } : {}),
        },
      });
      p.events.on("error", ({ error, fatal }) => event(req.callId, fatal ? "error" : "warn", `publisher.${error.code}`, error.message));
      calls.set(req.callId, p);
      try {
        await p.start();
      } catch (err) {
        calls.delete(req.callId);
        throw err;
      }
      return { childPids: p.childPids };
    }
    case "ask": {
      const p = call(req.callId);
      const t0 = performance.now();
      let first: number | null = null;
      let text = "";
      for await (const chunk of p.ask(req.text, AbortSignal.timeout(req.timeoutMs))) {
        if (first === null && chunk.length > 0) first = performance.now() - t0;
        text += chunk;
      }
      const result: AskResult = { firstChunkMs: first, finalMs: performance.now() - t0, text };
      return result;
    }
    case "stats": {
      const out: PublisherSnapshot[] = [...calls].map(([callId, p]) => {
        const s = p.stats();
        return {
          callId, state: s.state, bitrateBps: s.bitrateBps, framerate: s.framerate, bitrateCapBps: s.bitrateCapBps,
          mapVersion: s.mapVersion, framesSent: s.encoder.framesSent, framesDroppedBusy: s.encoder.framesDroppedBusy,
          restarts: s.encoder.restarts, encoderFailures: s.encoder.encoderFailures, childPids: p.childPids,
          bytesSent: s.encoder.bytesSent + s.fec.parityBytesSent,
        };
      });
      return { calls: out };
    }
    case "close": {
      const p = call(req.callId);
      calls.delete(req.callId);
      await p.close();
      return {};
    }
    case "close-all":
      await closeAll();
      return {};
  }
}

function closeAll(): Promise<void> {
  const all = [...calls.values()];
  calls.clear();
  return Promise.all(all.map((p) => p.close())).then(() => undefined);
}

process.on("message", (raw: unknown) => {
  const parsed = WorkerRequest.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown })?.id === "number" ? (raw as { id: number }).id : -1;
    send({ type: "reply", id, ok: false, error: { code: "BAD_REQUEST", message: describeIssue(parsed.error) } });
    return;
  }
  const req = parsed.data;
  handle(req).then(
    (result) => send({ type: "reply", id: req.id, ok: true, result }),
    (err: unknown) => {
      const e = err as { code?: unknown; message?: unknown };
      send({ type: "reply", id: req.id, ok: false, error: { code: typeof e.code === "string" ? e.code : "ERROR", message: String(e.message ?? err) } });
    },
  );
});

// The parent went away (finished, or died): close every publisher (their ffmpeg with them), leave.
process.on("disconnect", () => {
  shuttingDown ??= closeAll().finally(() => process.exit(0));
});
