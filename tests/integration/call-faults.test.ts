/**
 * Faults around a call: a publisher that vanishes mid-call, an MLLM endpoint that is down, and
 * 50 joins and leaves. The right party hears about it, the server keeps serving the other calls,
 * and nothing piles up (handles, child processes, memory).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { generateClip } from "../../encoder/synth/clip.ts";
import { CallServer } from "../../sfu/call/call-server.ts";
import { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";
import { OpenAiCompatibleClient } from "../../sfu/mllm/openai/client.ts";
import { createPublisherPeer, negotiate } from "../../sfu/publisher/peer.ts";
import { HeadlessPublisher } from "../../sfu/publisher/publisher.ts";
import { answer, sleep, waitFor } from "../support/call-helpers.ts";
import { fetchToken, SignalingClient } from "../../sfu/publisher/signaling-client.ts";
import { serializeRtp } from "../../encoder/rtp/index.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const SECRET = "integration-test-secret-0123456789abcdef";
let dir: string;
let clip: string;
let engine: WorkerOcrEngine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "it-faults-"));
  clip = (await generateClip(ffmpeg, join(dir, "c.mkv"), {
    width: 640, height: 360, fps: 15, durationSec: 3, seed: 2,
    signs: [{ x: 360, y: 40, width: 200, height: 70, fontPx: 18, lines: ["GATE K42", "SEAT 18D"] }],
  })).path;
  engine = new WorkerOcrEngine();
});

afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

function server(model = engine as ConstructorParameters<typeof CallServer>[0]["model"]) {
  return new CallServer({
    secret: SECRET, ffmpeg, model, regionFinder: { find: (q, f) => engine.textRegionsForQuestion(q, f) },
    analysisWidth: 640, analysisHeight: 360,
  });
}

function publisher(url: string, token: string) {
  return new HeadlessPublisher({
    serverUrl: url, token, iceAdditionalHostAddresses: ["127.0.0.1"], metricsIntervalMs: 500,
    encoder: { ffmpeg, input: clip, loop: true, width: 640, height: 360, fps: 15, bitrateBps: 300_000, speed: "ultrafast" },
  });
}

/** Child processes of this process (ffmpeg decoders and encoders), from /proc. */
function childPids(): number[] {
  const me = String(process.pid);
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]!.split(" ")[1] === me;
    } catch {
      return false;
    }
  }).map(Number);
}

describe("call server faults", () => {
  it("a publisher that vanishes mid-call is dropped and the other call goes on answering", async () => {
    const s = server();
    const addr = await s.listen(0);
    const url = `ws://127.0.0.1:${addr.port}/ws`;
    const steady = publisher(url, await fetchToken(url, "steady", "bob"));
    await steady.start();
    // The one that vanishes: joined and connected, then its socket and peer connection just stop.
    const { client } = await SignalingClient.connect(url, await fetchToken(url, "vanish", "eve"));
    const peer = createPublisherPeer("h264", [], ["127.0.0.1"]);
    await negotiate(peer, client, 10_000);
    await waitFor(() => s.participantCount === 2, 5000, "two participants");
    client.terminate();
    await peer.pc.close();
    try {
      await waitFor(() => s.participantCount === 1, 10_000, "the vanished publisher to be dropped");
      await waitFor(() => (s.metrics()[0]?.frameRate ?? 0) > 5, 15_000, "the steady call's video");
      const text = await answer(steady, "What gate number is shown on the sign?");
      expect(text).toContain("K42");
    } finally {
      await steady.close();
      await s.close();
    }
  });

  it("a participant sending garbage RTP gets nothing decoded, and the other call goes on answering", async () => {
    const s = server();
    const addr = await s.listen(0);
    const url = `ws://127.0.0.1:${addr.port}/ws`;
    const steady = publisher(url, await fetchToken(url, "steady", "bob"));
    await steady.start();
    const { client } = await SignalingClient.connect(url, await fetchToken(url, "noise", "mallory"));
    const peer = createPublisherPeer("h264", [], ["127.0.0.1"]);
    await negotiate(peer, client, 10_000);
    const rng = mulberry32(9);
    try {
      // Well-formed RTP headers (SRTP protects the wire), payloads of random bytes.
      for (let i = 0; i < 300; i++) {
        const payload = Uint8Array.from({ length: 50 + Math.floor(rng() * 900) }, () => Math.floor(rng() * 256));
        const pkt = serializeRtp({ marker: i % 3 === 2, payloadType: 102, sequenceNumber: i, timestamp: Math.floor(i / 3) * 6000, ssrc: 1, payload });
        await peer.transceiver.sender.sendRtp(Buffer.from(pkt));
      }
      await sleep(1000);
      const noisy = s.metrics().find((m) => m.identity === "mallory")!;
      // The garbage reached the receive path (some of the burst is lost before the track is up)
      // and was declared lost frame by frame, none decoded.
      expect(noisy.packetsReceived, JSON.stringify(noisy)).toBeGreaterThan(100);
      expect(noisy.framesLost, JSON.stringify(noisy)).toBeGreaterThan(10);
      expect(noisy.framesDecoded, JSON.stringify(noisy)).toBe(0);
      await waitFor(() => (s.metrics().find((m) => m.identity === "bob")?.frameRate ?? 0) > 5, 15_000, "the steady call's video");
      expect(await answer(steady, "What gate number is shown on the sign?")).toContain("K42");
    } finally {
      client.terminate();
      await peer.pc.close();
      await steady.close();
      await s.close();
    }
  });

  it("with the MLLM endpoint down, the asker gets an error answer and the server serves on", async () => {
    // A port nothing listens on (taken, then freed), so connections are refused.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const down = new OpenAiCompatibleClient({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "x", retries: 0, ffmpegPath: ffmpeg });
    const s = server(down);
    const addr = await s.listen(0);
    const url = `ws://127.0.0.1:${addr.port}/ws`;
    const p = publisher(url, await fetchToken(url, "r", "carol"));
    await p.start();
    try {
      await waitFor(() => s.metrics()[0]?.receivedBitrateBps !== null && (s.metrics()[0]?.frameRate ?? 0) > 5, 15_000, "video");
      const t1 = await answer(p, "What gate number is shown on the sign?");
      expect(t1).toMatch(/could not answer/i);
      expect(t1).toMatch(/could not reach|ECONNREFUSED/i);
      const t2 = await answer(p, "Which seat is written on the sign?");
      expect(t2).toMatch(/could not answer/i);
      const res = await fetch(`http://127.0.0.1:${addr.port}/api/metrics`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { calls: Array<{ questions: unknown[] }> };
      expect(body.calls[0]!.questions).toHaveLength(2);
    } finally {
      await p.close();
      await s.close();
    }
  });

  it("50 joins and leaves leave no participants, child processes, growing handles or memory behind", async () => {
    setFlagsFromString("--expose_gc");
    const gc = runInNewContext("gc") as () => void;
    const s = server();
    const addr = await s.listen(0);
    const url = `ws://127.0.0.1:${addr.port}/ws`;
    const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const cycle = async (i: number) => {
      const p = publisher(url, await fetchToken(url, `room${i % 3}`, `user${i}`));
      await p.start();
      await sleep(150);
      await p.close();
    };
    try {
      for (let i = 0; i < 5; i++) await cycle(i); // warm up: first-use allocations are not leaks
      await waitFor(() => s.participantCount === 0, 10_000, "empty server");
      await sleep(500);
      gc();
      // Children that were there before the cycles (other suites' processes in this worker) do not count.
      const before = new Set(childPids());
      const fresh = () => childPids().filter((pid) => !before.has(pid));
      const h0 = handles();
      const m0 = process.memoryUsage().heapUsed;
      for (let i = 5; i < 55; i++) await cycle(i);
      await waitFor(() => s.participantCount === 0, 10_000, "empty server");
      await waitFor(() => fresh().length === 0, 10_000, "no ffmpeg left", () =>
        fresh().map((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").slice(0, 160)).join(" | "));
      await sleep(1000);
      gc();
      const h1 = handles();
      const m1 = process.memoryUsage().heapUsed;
      const growthMb = (m1 - m0) / 1e6;
      // Bounds: a few handles of slack (timers the runtime keeps), 25 MB of heap for 50 calls.
      expect(h1 - h0, `active handles ${h0} -> ${h1}`).toBeLessThanOrEqual(5);
      expect(growthMb, `heap ${(m0 / 1e6).toFixed(1)} MB -> ${(m1 / 1e6).toFixed(1)} MB`).toBeLessThan(25);
    } finally {
      await s.close();
    }
  });
});
