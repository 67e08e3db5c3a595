/**
 * The AI peer's receive path on real media: clips encoded by ffmpeg (libx264, libvpx), packetized
 * with the project's RtpPacketizer, fed as RTP bytes (shuffled within frames, some duplicated, some
 * frames dropped, garbage mixed in), decoded by the path's long-lived ffmpeg into the frame store.
 * Pictures are compared with the same frames decoded directly by ffmpeg. The last test carries the
 * packets between two werift peer connections over 127.0.0.1.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from "werift";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeFrames } from "../../encoder/ffmpeg/frames.ts";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { readIvfFrames, splitH264AccessUnits } from "../../encoder/rtp/elementary.ts";
import { isH264Keyframe, RtpPacketizer, type RtpVideoCodec, serializeRtp } from "../../encoder/rtp/index.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";
import type { DecodedFrame } from "../../sfu/media/decoder.ts";
import type { LogRecord } from "../../sfu/media/errors.ts";
import type { LostFrame } from "../../sfu/media/jitter-buffer.ts";
import { ReceivePath, type ReceivePathOptions } from "../../sfu/media/receive-path.ts";
import { type RtcpCallbacks, weriftRtcpCallbacks } from "../../sfu/media/werift-rtcp.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const FPS = 15;
const W = 160;
const H = 120;
let dir: string;

interface Clip {
  codec: RtpVideoCodec;
  frames: Uint8Array[];
  keyframes: number[];
  /** The same frames decoded straight from the file by ffmpeg, at W x H. */
  reference: Uint8Array[];
}
const clips = new Map<string, Clip>();

async function encodeClip(codec: RtpVideoCodec, gop: number): Promise<Clip> {
  const file = join(dir, `${codec}-g${gop}.${codec === "h264" ? "h264" : "ivf"}`);
  const codecArgs = codec === "h264"
    ? ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", String(gop), "-sc_threshold", "0", "-b:v", "300k", "-f", "h264"]
    : ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", String(gop), "-keyint_min", String(gop), "-b:v", "300k", "-f", "ivf"];
  await runFfmpeg(ffmpeg, ["-y", "-loglevel", "error", "-f", "lavfi", "-i", `testsrc2=s=320x240:r=${FPS}:d=2`, ...codecArgs, file]);
  const buf = new Uint8Array(readFileSync(file));
  const frames = codec === "h264" ? splitH264AccessUnits(buf) : readIvfFrames(buf).frames;
  const keyframes = frames.flatMap((f, i) => ((codec === "h264" ? isH264Keyframe(f) : (f[0]! & 1) === 0) ? [i] : []));
  const reference: Uint8Array[] = [];
  for await (const f of decodeFrames({ ffmpeg, inputArgs: ["-f", codec === "h264" ? "h264" : "ivf", "-i", file], width: W, height: H, pixFmt: "rgb24" })) {
    reference.push(f);
  }
  return { codec, frames, keyframes, reference };
}

function clip(codec: RtpVideoCodec, gop: number): Clip {
  return clips.get(`${codec}-${gop}`)!;
}

/** RTP packets of every frame (serialized), sequence numbers starting near the 16-bit wrap. */
function packetize(c: Clip): Uint8Array[][] {
  const packetizer = new RtpPacketizer({ codec: c.codec, ssrc: 0x5eed_0001, payloadType: c.codec === "h264" ? 102 : 96, initialSequenceNumber: 65_500, initialTimestamp: 0xffff_0000 });
  return c.frames.map((f, i) => packetizer.packetizeFrame(f, { timestampMs: (i * 1000) / FPS }).map(serializeRtp));
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let k = items.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [items[k], items[j]] = [items[j]!, items[k]!];
  }
  return items;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A path that records what comes out; `now` is the arrival clock the test controls. */
function recordingPath(c: Clip, clock: () => number, extra: Partial<ReceivePathOptions> = {}) {
  const decoded: DecodedFrame[] = [];
  const lost: LostFrame[] = [];
  const keyframeRequests: number[] = [];
  const path = new ReceivePath({
    codec: c.codec, ffmpeg, width: W, height: H, clock,
    onFrame: (f) => decoded.push(f),
    onLoss: (l) => lost.push(l),
    onKeyframeNeeded: (ssrc) => keyframeRequests.push(ssrc),
    ...extra,
  });
  return { path, decoded, lost, keyframeRequests };
}

/** Index of the source frame a decoded frame came from, by its capture time. */
const indexOf = (f: DecodedFrame) => Math.round((f.timestampMs * FPS) / 1000);

function worstMad(c: Clip, decoded: DecodedFrame[]): number {
  return Math.max(...decoded.map((f) => meanAbsDiff(f.rgb, c.reference[indexOf(f)]!)));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "it-receive-"));
  for (const codec of ["h264", "vp8"] as const) {
    for (const gop of [30, 10]) clips.set(`${codec}-${gop}`, await encodeClip(codec, gop));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ReceivePath on real encoder output", () => {
  for (const codec of ["h264", "vp8"] as const) {
    it(`${codec}: shuffled and duplicated packets -> every frame decoded, in capture order, matching ffmpeg's own decode`, async () => {
      const c = clip(codec, 30);
      expect(c.frames.length).toBe(30);
      expect(c.reference.length).toBe(30);
      const { path, decoded } = recordingPath(c, () => performance.now());
      await sleep(300); // as in a call, the path (and its prewarmed ffmpeg) exists before the first packet
      const rand = mulberry32(7);
      let duplicates = 0;
      for (const packets of packetize(c)) {
        const wire = shuffle([...packets], rand);
        for (const [k, p] of wire.entries()) {
          path.onRtp(p, performance.now());
          if (k % 3 === 0) {
            path.onRtp(p, performance.now());
            duplicates++;
          }
        }
        await sleep(1000 / FPS / 4); // 4x real time: frames do not pile up in the decoder
      }
      const stats = path.stats();
      await path.close();

      expect(decoded.length, "decoded frames").toBe(c.frames.length);
      decoded.forEach((f, i) => expect(f.timestampMs, `capture time of frame ${i}`).toBeCloseTo((i * 1000) / FPS, 1));
      const mad = worstMad(c, decoded);
      const lat = decoded.map((f) => f.receiveLatencyMs).sort((a, b) => a - b);
      const pct = (p: number) => lat[Math.ceil((p / 100) * lat.length) - 1]!.toFixed(1);
      console.log(`${codec}: worst mean abs diff vs direct decode ${mad.toFixed(3)} /255 (vs the previous source frame: ${Math.min(...decoded.slice(1).map((f, i) => meanAbsDiff(f.rgb, c.reference[i]!))).toFixed(2)}); receive latency p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${lat.at(-1)!.toFixed(1)} ms (first frame ${decoded[0]!.receiveLatencyMs.toFixed(1)} ms); bitrate ${(stats.bitrateBps / 1000).toFixed(0)} kbps over the last second (fed at 4x real time)`);
      expect(mad, `worst per-frame mean absolute difference ${mad}`).toBeLessThan(1);
      // The bound discriminates: a frame one step off in the clip differs by much more.
      const offByOne = Math.min(...decoded.slice(1).map((f, i) => meanAbsDiff(f.rgb, c.reference[i]!)));
      expect(offByOne, `smallest difference to the previous source frame ${offByOne}`).toBeGreaterThan(2);
      expect(stats).toMatchObject({ framesLost: 0, framesSkipped: 0, packetsMalformed: 0, packetsDuplicate: duplicates, framesDecoded: 30, framesComplete: 30 });
      expect(stats.receiveLatencyMs.samples).toBe(30);
      expect(path.store.counters.framesStored).toBe(30);
      expect(path.store.latest()!.captureMs).toBeCloseTo((29 * 1000) / FPS, 1);
      expect(path.store.sampleAt(performance.now(), 1)).toMatchObject({ substituted: false, captureMs: path.store.latest()!.captureMs });
      expect(path.store.sampleAt(performance.now(), 1)!.substituted, "no newer frame: the previous one stands in").toBe(true);
    });

    it(`${codec}: a frame whose packets are all dropped is reported lost, asks for a keyframe, and no frame depending on it is decoded`, async () => {
      const c = clip(codec, 10);
      const dropped = 13;
      const nextKey = c.keyframes.find((k) => k > dropped)!;
      expect(c.keyframes.slice(0, 3), "keyframes of the -g 10 clip").toEqual([0, 10, 20]);
      let now = 0;
      const { path, decoded, lost, keyframeRequests } = recordingPath(c, () => now);
      for (const [i, packets] of packetize(c).entries()) {
        now = (i * 1000) / FPS;
        if (i === dropped) continue;
        for (const p of shuffle([...packets], mulberry32(i))) path.onRtp(p, now);
        await sleep(5);
      }
      const stats = path.stats();
      await path.close();

      expect(lost.map((l) => [l.reason, l.rtpTimestamp])).toEqual([["missing", undefined]]);
      expect(lost[0]!.missing.length).toBe(packetize(c)[dropped]!.length);
      expect(keyframeRequests.length, "keyframe requests").toBeGreaterThanOrEqual(1);
      expect(keyframeRequests.every((s) => s === 0x5eed_0001)).toBe(true);
      const expected = [...Array(dropped).keys(), ...Array.from({ length: c.frames.length - nextKey }, (_, k) => nextKey + k)];
      expect(decoded.map(indexOf), "frames that reached the decoder and store").toEqual(expected);
      expect(stats).toMatchObject({ framesLost: 1, framesSkipped: nextKey - dropped - 1, framesDroppedByDecoder: 0 });
      expect(path.store.counters.framesStored, "frames in the store").toBe(expected.length);
      const mad = worstMad(c, decoded);
      console.log(`${codec} with frame ${dropped} dropped: ${decoded.length} frames decoded, ${stats.framesSkipped} skipped until keyframe ${nextKey}, ${keyframeRequests.length} keyframe requests, worst MAD ${mad.toFixed(3)}`);
      expect(mad, `worst per-frame mean absolute difference ${mad}`).toBeLessThan(1);
    });
  }

  it("h264: 200 garbage buffers are counted as malformed and decoding goes on", async () => {
    const c = clip("h264", 30);
    const rand = mulberry32(99);
    const { path, decoded } = recordingPath(c, () => performance.now());
    const wire = packetize(c);
    const feed = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        for (const p of wire[i]!) path.onRtp(p);
        await sleep(10);
      }
    };
    await feed(0, 15);
    for (let g = 0; g < 200; g++) {
      const buf = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
      if (g % 2 === 0 && buf.length > 0) buf[0] = 0x80; // parses as RTP: caught by the SSRC check instead
      path.onRtp(buf);
    }
    await feed(15, 30);
    const stats = path.stats();
    await path.close();
    expect(stats.packetsMalformed).toBe(200);
    expect(stats.framesLost).toBe(0);
    expect(decoded.length).toBe(30);
  });

  it("h264: a missing ffmpeg binary is logged and counted, never thrown at the caller", async () => {
    const c = clip("h264", 10);
    const logs: LogRecord[] = [];
    const { path, decoded, keyframeRequests } = recordingPath(c, () => performance.now(), { ffmpeg: join(dir, "no-such-ffmpeg"), log: (r) => logs.push(r) });
    for (const packets of packetize(c)) {
      for (const p of packets) path.onRtp(p);
      await sleep(2);
    }
    await sleep(50);
    const stats = path.stats();
    await path.close();
    expect(decoded).toEqual([]);
    expect(stats.framesComplete).toBe(30);
    // One try per keyframe while down (10 and 20; keyframe 0 may still meet the prewarmed process
    // before its spawn error arrives), never a hot loop.
    expect(stats.decoderRestarts).toBeGreaterThanOrEqual(2);
    expect(stats.decoderRestarts).toBeLessThanOrEqual(3);
    expect(logs.filter((r) => r.msg.startsWith("decoder exited")).length).toBeGreaterThanOrEqual(1);
    expect(keyframeRequests.length).toBeGreaterThanOrEqual(1);
  });

  it("h264: ffmpeg killed mid-stream is restarted at the next keyframe; nothing throws", async () => {
    const c = clip("h264", 10);
    let now = 0;
    const { path, decoded, keyframeRequests } = recordingPath(c, () => now);
    const wire = packetize(c);
    for (let i = 0; i < 30; i++) {
      now = (i * 1000) / FPS;
      for (const p of wire[i]!) path.onRtp(p, now);
      await sleep(10);
      if (i === 12) {
        process.kill(path.decoderPid!, "SIGKILL");
        while (path.decoderPid !== undefined) await sleep(5);
      }
    }
    const stats = path.stats();
    await path.close();
    expect(stats.decoderRestarts).toBe(1);
    expect(keyframeRequests.length).toBeGreaterThanOrEqual(1);
    const got = decoded.map(indexOf);
    expect(got.filter((i) => i >= 20), "frames from the keyframe after the restart").toEqual([...Array(10).keys()].map((k) => 20 + k));
    expect(got.some((i) => i > 12 && i < 20), "no frame between the crash and the next keyframe").toBe(false);
  });
});

/** A sendonly werift peer and a recvonly "server" peer (the AI side) on 127.0.0.1, H.264 with NACK and PLI. */
async function weriftPair(c: Clip, extra: Partial<ReceivePathOptions> = {}) {
  const codecs = () => ({
    video: [new RTCRtpCodecParameters({
      mimeType: "video/H264", clockRate: 90000,
      rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "goog-remb" }],
      parameters: "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1",
    })],
    audio: [],
  });
  const sender = new RTCPeerConnection({ codecs: codecs() });
  const server = new RTCPeerConnection({ codecs: codecs(), iceAdditionalHostAddresses: ["127.0.0.1"] });
  const track = new MediaStreamTrack({ kind: "video" });
  const senderTransceiver = sender.addTransceiver(track, { direction: "sendonly" });
  let rtcp: RtcpCallbacks | undefined;
  const rec = recordingPath(c, () => performance.now(), {
    onKeyframeNeeded: (ssrc) => {
      rec.keyframeRequests.push(ssrc);
      rtcp?.onKeyframeNeeded(ssrc);
    },
    onNack: (ssrc, seqs) => rtcp?.onNack(ssrc, seqs),
    ...extra,
  });
  server.onRemoteTransceiverAdded.subscribe((t) => {
    rtcp = weriftRtcpCallbacks(t.receiver);
    t.onTrack.subscribe((remote) => remote.onReceiveRtp.subscribe((rtp) => rec.path.onRtp(rtp.serialize(), performance.now())));
  });
  await sender.setLocalDescription(await sender.createOffer());
  await server.setRemoteDescription(sender.localDescription!);
  await server.setLocalDescription(await server.createAnswer());
  await sender.setRemoteDescription(server.localDescription!);
  // werift's sender drops RTP silently until DTLS is up, and the two sides get there at different times.
  await Promise.all([
    sender.connectionStateChange.watch((s) => s === "connected"),
    server.connectionStateChange.watch((s) => s === "connected"),
  ]);
  const close = async () => {
    await Promise.all([sender.close(), server.close()]);
    await rec.path.close();
  };
  return { ...rec, track, sender: senderTransceiver.sender, close };
}

describe("ReceivePath behind werift", () => {
  it("h264 over two RTCPeerConnections on 127.0.0.1: every frame comes out of the receive path", async () => {
    const c = clip("h264", 30);
    const w = await weriftPair(c);
    try {
      for (const packets of packetize(c)) {
        // werift's writeRtp takes a Buffer or its own RtpPacket; a plain Uint8Array throws inside it.
        for (const p of packets) w.track.writeRtp(Buffer.from(p));
        await sleep(1000 / FPS / 4);
      }
      for (let t = 0; t < 100 && w.decoded.length < c.frames.length; t++) await sleep(20);
    } finally {
      await w.close();
    }
    const stats = w.path.stats();
    console.log(`werift: ${w.decoded.length}/${c.frames.length} frames decoded, lost ${stats.framesLost}, receive latency p50 ${stats.receiveLatencyMs.p50?.toFixed(1)} ms p95 ${stats.receiveLatencyMs.p95?.toFixed(1)} ms`);
    expect(w.decoded.map(indexOf), "capture order").toEqual([...Array(c.frames.length).keys()]);
    expect(worstMad(c, w.decoded)).toBeLessThan(1);
  });

  it("h264 over werift with one frame never sent: the receive path's PLI and NACK reach the sender", async () => {
    const c = clip("h264", 30); // no keyframe after the loss: the PLI is certain to be needed
    const dropped = 13;
    const w = await weriftPair(c);
    let plis = 0;
    const nacked = new Set<number>();
    w.sender.onPictureLossIndication.subscribe(() => plis++);
    w.sender.onGenericNack.subscribe((n) => n.lost.forEach((s) => nacked.add(s)));
    const wire = packetize(c);
    try {
      for (const [i, packets] of wire.entries()) {
        if (i !== dropped) for (const p of packets) w.track.writeRtp(Buffer.from(p));
        await sleep(1000 / FPS / 4);
      }
      for (let t = 0; t < 100 && w.decoded.length < dropped; t++) await sleep(20);
    } finally {
      await w.close();
    }
    const stats = w.path.stats();
    console.log(`werift with frame ${dropped} unsent: ${w.decoded.length} decoded, lost ${stats.framesLost}, skipped ${stats.framesSkipped}, PLIs at the sender ${plis}, NACKed ${nacked.size} sequence numbers`);
    expect(w.lost.map((l) => l.reason)).toEqual(["missing"]);
    expect(plis, "PLIs received by the sender").toBeGreaterThanOrEqual(1);
    const droppedSeqs = wire[dropped]!.map((p) => (p[2]! << 8) | p[3]!);
    expect(droppedSeqs.every((s) => nacked.has(s)), "every unsent packet was NACKed").toBe(true);
    expect(w.decoded.map(indexOf), "frames before the loss; none after it without a keyframe").toEqual([...Array(dropped).keys()]);
    expect(stats.framesSkipped).toBe(c.frames.length - dropped - 1);
  });
});
