/**
 * The receive path's per-frame FEC on real encoder output: an H.264 clip (one keyframe, then delta
 * frames) packetized by the RtpPacketizer, one media packet dropped from every other multi-packet
 * frame, and FrameFecSender parity (2 packets a frame) fed through `onParity`. With the `fec`
 * option and `resilientPolicy({ fec: true })` every frame is rebuilt and decoded; the same feed
 * without FEC loses the first damaged frame and, without a keyframe after it, every later one.
 * Malformed parity (not RTP, or RTP that is not a parity packet) is counted, logged and dropped.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { splitH264AccessUnits } from "../../encoder/rtp/elementary.ts";
import { FrameFecSender } from "../../encoder/rtp/frame-fec.ts";
import { RtpPacketizer, serializeRtp, type RtpPacket } from "../../encoder/rtp/index.ts";
import type { DecodedFrame } from "../../sfu/media/decoder.ts";
import type { LogRecord } from "../../sfu/media/errors.ts";
import { ReceivePath } from "../../sfu/media/receive-path.ts";
import { resilientPolicy } from "../../sfu/media/receive-policy.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const FPS = 15;
const SSRC = 0x5eed_0002;
let dir: string;
let frames: Uint8Array[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "it-receive-fec-"));
  const file = join(dir, "c.h264");
  await runFfmpeg(ffmpeg, ["-y", "-loglevel", "error", "-f", "lavfi", "-i", `testsrc2=s=320x240:r=${FPS}:d=2`,
    "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "300", "-b:v", "400k", "-f", "h264", file]);
  frames = splitH264AccessUnits(new Uint8Array(readFileSync(file)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Feeds the clip: media minus the dropped packets, then (with `fec`) the parity. */
async function feed(fec: boolean) {
  let now = 0;
  const decoded: DecodedFrame[] = [];
  const logs: LogRecord[] = [];
  const path = new ReceivePath({
    codec: "h264", ffmpeg, width: 160, height: 120, clock: () => now, ssrc: SSRC, fec,
    policy: resilientPolicy({ fec }), onFrame: (f) => decoded.push(f), log: (r) => logs.push(r),
  });
  const packetizer = new RtpPacketizer({ codec: "h264", ssrc: SSRC, payloadType: 102, initialSequenceNumber: 65_530, initialTimestamp: 0 });
  const parity = new FrameFecSender({ ssrc: 0xfec, payloadType: 120, initialSequenceNumber: 100 });
  let damaged = 0;
  for (const [i, f] of frames.entries()) {
    now = (i * 1000) / FPS;
    const packets = packetizer.packetizeFrame(f, { timestampMs: now });
    // Every other frame of two packets or more loses one (the last one on every fourth: the jitter
    // buffer cannot see that gap until the next frame starts).
    const drop = i > 0 && i % 2 === 1 && packets.length >= 2 ? (i % 4 === 1 ? packets.length - 1 : 0) : -1;
    if (drop >= 0) damaged++;
    packets.forEach((p: RtpPacket, k) => k !== drop && path.onRtp(serializeRtp(p), now));
    if (fec) for (const p of parity.protect(packets, 2)) path.onParity(serializeRtp(p), now + 1);
    await sleep(10);
  }
  now += 1000;
  await sleep(300);
  const stats = path.stats(now);
  await path.close();
  return { decoded, stats, damaged, logs, path };
}

describe("ReceivePath with per-frame FEC", () => {
  it("h264: the parity rebuilds every dropped packet, every frame is decoded; without it the chain breaks at the first damaged frame", async () => {
    expect(frames.length).toBe(30);
    const withFec = await feed(true);
    const without = await feed(false);
    const msg = `with FEC ${JSON.stringify({ decoded: withFec.decoded.length, fec: withFec.stats.fec, damaged: withFec.damaged, lost: withFec.stats.framesLost, framesRecovered: withFec.stats.framesRecovered, packetsMissed: withFec.stats.packetsMissed, packetsRecovered: withFec.stats.packetsRecovered })}; without ${JSON.stringify({ decoded: without.decoded.length, lost: without.stats.framesLost, skipped: without.stats.framesSkipped, packetsMissed: without.stats.packetsMissed })}`;
    console.log(`[receive-path-fec] ${msg}`);
    expect(withFec.damaged, msg).toBeGreaterThan(5);
    expect(withFec.stats.fec, msg).toEqual({ parityReceived: 2 * frames.length, packetsRecovered: withFec.damaged, framesRepaired: withFec.damaged, groupsUnrepaired: 0, malformed: 0 });
    expect(withFec.stats.framesLost, msg).toBe(0);
    expect(withFec.decoded.length, msg).toBe(frames.length);
    expect(withFec.stats.packetsMalformed, "parity never reaches the media path's checks").toBe(0);
    // Every dropped packet counts as missed and recovered, also the last packets of a frame,
    // rebuilt before the jitter buffer could see them missing: the measured loss is the link's.
    expect(withFec.stats.packetsMissed, msg).toBe(withFec.damaged);
    expect(withFec.stats.packetsRecovered, msg).toBe(withFec.damaged);
    expect(withFec.stats.framesRecovered, "frames whose gap showed before the repair").toBeGreaterThan(0);
    expect(withFec.stats.framesRecovered, msg).toBeLessThan(withFec.damaged);

    expect(without.stats.fec).toBe(null);
    // (The last frame's lost last packet never shows without a next frame.)
    expect(without.stats.packetsMissed, msg).toBeGreaterThanOrEqual(without.damaged - 1);
    expect(without.stats.packetsRecovered, msg).toBe(0);
    expect(without.stats.framesLost, msg).toBeGreaterThan(0);
    expect(without.decoded.length, msg).toBeLessThan(frames.length / 2);
  });

  it("malformed parity packets are counted, logged and dropped; decoding goes on", async () => {
    let now = 0;
    const decoded: DecodedFrame[] = [];
    const logs: LogRecord[] = [];
    const path = new ReceivePath({
      codec: "h264", ffmpeg, width: 160, height: 120, clock: () => now, ssrc: SSRC, fec: true,
      policy: resilientPolicy({ fec: true }), onFrame: (f) => decoded.push(f), log: (r) => logs.push(r),
    });
    const packetizer = new RtpPacketizer({ codec: "h264", ssrc: SSRC, payloadType: 102, initialSequenceNumber: 10, initialTimestamp: 0 });
    const parity = new FrameFecSender({ ssrc: 0xfec, payloadType: 120 });
    for (const [i, f] of frames.slice(0, 10).entries()) {
      now = (i * 1000) / FPS;
      const packets = packetizer.packetizeFrame(f, { timestampMs: now });
      for (const p of packets) path.onRtp(serializeRtp(p), now);
      const good = parity.protect(packets, 1)[0]!;
      // Not RTP at all; RTP whose payload is not a parity packet (wrong version); a truncated one.
      path.onParity(new Uint8Array([1, 2, 3]), now);
      path.onParity(serializeRtp({ ...good, payload: Uint8Array.from(good.payload, (b, k) => (k === 0 ? 9 : b)) }), now);
      path.onParity(serializeRtp({ ...good, payload: good.payload.subarray(0, 8) }), now);
      path.onParity(serializeRtp(good), now);
      await sleep(10);
    }
    now += 1000;
    await sleep(300);
    const stats = path.stats(now);
    await path.close();
    expect(stats.fec, JSON.stringify(stats.fec)).toMatchObject({ parityReceived: 10, malformed: 30, packetsRecovered: 0 });
    expect(decoded.length).toBe(10);
    const warned = logs.filter((l) => l.msg === "malformed FEC packet dropped");
    expect(warned.length, "the first 10 are logged, then every 100th").toBe(10);
    expect(warned[0]).toMatchObject({ level: "warn", code: "RTP_MALFORMED" });
  });
});
