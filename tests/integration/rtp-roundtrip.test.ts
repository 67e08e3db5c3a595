/**
 * Real encoder output through the RTP packetizers and back: every frame of an H.264 and a VP8
 * stream survives packetize -> serialize -> parse -> assemble bit for bit, and the reassembled
 * stream decodes to the same number of frames.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { readIvfFrames, splitH264AccessUnits } from "../../encoder/rtp/elementary.ts";
import { FrameAssembler, parseRtp, RtpPacketizer, serializeRtp, type RtpVideoCodec } from "../../encoder/rtp/index.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "it-rtp-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function encode(codec: RtpVideoCodec): Promise<Uint8Array[]> {
  const file = join(dir, codec === "h264" ? "s.h264" : "s.ivf");
  const codecArgs = codec === "h264"
    ? ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-b:v", "600k", "-g", "30", "-f", "h264"]
    : ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k", "-g", "30", "-f", "ivf"];
  await runFfmpeg(ffmpeg, ["-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=2", ...codecArgs, file]);
  const buf = new Uint8Array(readFileSync(file));
  return codec === "h264" ? splitH264AccessUnits(buf) : readIvfFrames(buf).frames;
}

async function countDecodedFrames(file: string, format: string): Promise<number> {
  const res = await runFfmpeg(ffmpeg, ["-loglevel", "info", "-f", format, "-i", file, "-f", "null", "-"]);
  const m = [...res.stderr.matchAll(/frame=\s*(\d+)/g)].pop();
  return m ? Number(m[1]) : 0;
}

describe("RTP round trip of real encoder output", () => {
  for (const codec of ["h264", "vp8"] as const) {
    it(`${codec}: 60 frames, shuffled packets within each frame, come back bit-exact and decodable`, async () => {
      const frames = await encode(codec);
      expect(frames.length).toBe(60);
      const packetizer = new RtpPacketizer({ codec, ssrc: 0x1234abcd, payloadType: codec === "h264" ? 102 : 96, initialSequenceNumber: 65_500, ...(codec === "vp8" ? { initialPictureId: 32_760 } : {}) });
      const assembler = new FrameAssembler(codec);
      const rng = mulberry32(5);
      const back: Uint8Array[] = [];
      let packets = 0;
      frames.forEach((frame, i) => {
        const wire = packetizer.packetizeFrame(frame, { timestampMs: (i * 1000) / 30 }).map(serializeRtp);
        packets += wire.length;
        for (const w of wire) expect(w.length).toBeLessThanOrEqual(1200 + 12);
        // Reorder within the frame: the assembler must not depend on arrival order.
        for (let k = wire.length - 1; k > 0; k--) {
          const j = Math.floor(rng() * (k + 1));
          [wire[k], wire[j]] = [wire[j]!, wire[k]!];
        }
        const res = assembler.assemble(wire.map((w) => parseRtp(w)));
        if (!res.complete) throw new Error(`frame ${i} incomplete: missing ${res.missing.join(",")}`);
        back.push(res.frame);
      });
      expect(packets).toBeGreaterThan(frames.length);
      back.forEach((f, i) => expect(Buffer.compare(Buffer.from(f), Buffer.from(frames[i]!)), `frame ${i}`).toBe(0));

      // Write the reassembled frames out again and let ffmpeg decode them.
      let file: string;
      if (codec === "h264") {
        file = join(dir, "back.h264");
        writeFileSync(file, Buffer.concat(back.map((f) => Buffer.from(f))));
      } else {
        file = join(dir, "back.ivf");
        const header = Buffer.alloc(32);
        header.write("DKIF", 0, "ascii");
        header.writeUInt16LE(32, 6);
        header.write("VP80", 8, "ascii");
        header.writeUInt16LE(640, 12);
        header.writeUInt16LE(360, 14);
        header.writeUInt32LE(30, 16);
        header.writeUInt32LE(1, 20);
        header.writeUInt32LE(back.length, 24);
        const parts: Buffer[] = [header];
        back.forEach((f, i) => {
          const fh = Buffer.alloc(12);
          fh.writeUInt32LE(f.length, 0);
          fh.writeBigUInt64LE(BigInt(i), 4);
          parts.push(fh, Buffer.from(f));
        });
        writeFileSync(file, Buffer.concat(parts));
      }
      expect(await countDecodedFrames(file, codec === "h264" ? "h264" : "ivf")).toBe(60);
    });
  }
});
