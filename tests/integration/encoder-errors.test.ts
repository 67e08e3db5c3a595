/**
 * Bad input to the encoder: each case raises a typed error that names the problem, and nothing is
 * left half-written in the output folder.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EncoderError } from "../../encoder/errors.ts";
import { encodeVideo, type EncodeRequest } from "../../encoder/ffmpeg/encode.ts";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { mapFromRegions } from "../../encoder/importance/map.ts";
import { RoiPrefilter } from "../../encoder/prefilter/index.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
let dir: string;
let out: string;
let good: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "it-errors-"));
  out = join(dir, "out");
  mkdirSync(out);
  good = join(dir, "good.mp4");
  await runFfmpeg(ffmpeg, ["-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=1", "-c:v", "libx264", "-preset", "ultrafast", good]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function req(over: Partial<EncodeRequest>): EncodeRequest {
  return { ffmpeg, input: good, output: join(out, "o.h264"), codec: "h264", width: 320, height: 240, bitrateKbps: 100, ...over };
}

async function expectCode(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err, "the call should have failed").toBeInstanceOf(EncoderError);
  expect((err as EncoderError).code).toBe(code);
  expect((err as Error).message).toMatch(message);
  expect(readdirSync(out), "nothing may be left in the output folder").toEqual([]);
}

describe("encodeVideo with bad input", () => {
  it("with a missing input video, raises INPUT_MISSING naming the path", async () => {
    await expectCode(encodeVideo(req({ input: join(dir, "nope.mp4") })), "INPUT_MISSING", /nope\.mp4 does not exist/);
  });

  it("with a file of random bytes, raises INPUT_CORRUPT", async () => {
    const bad = join(dir, "noise.mp4");
    const rng = mulberry32(3);
    writeFileSync(bad, Uint8Array.from({ length: 50_000 }, () => Math.floor(rng() * 256)));
    await expectCode(encodeVideo(req({ input: bad })), "INPUT_CORRUPT", /noise\.mp4/);
  });

  it("with an MP4 cut in half, raises INPUT_CORRUPT", async () => {
    const cut = join(dir, "cut.mp4");
    const bytes = readFileSync(good);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectCode(encodeVideo(req({ input: cut })), "INPUT_CORRUPT", /cut\.mp4/);
  });

  it("with an empty file, raises INPUT_CORRUPT saying it is empty", async () => {
    const empty = join(dir, "empty.mp4");
    writeFileSync(empty, "");
    await expectCode(encodeVideo(req({ input: empty })), "INPUT_CORRUPT", /empty/);
  });

  it("with a zero or negative bitrate, raises INVALID_BITRATE", async () => {
    await expectCode(encodeVideo(req({ bitrateKbps: 0 })), "INVALID_BITRATE", /positive number of kbps, got 0/);
    await expectCode(encodeVideo(req({ bitrateKbps: -200 })), "INVALID_BITRATE", /got -200/);
  });

  it("with a pre-filter map for a picture of another shape, raises MAP_SIZE_MISMATCH", async () => {
    const map = mapFromRegions(1280, 360, 64, [{ x: 0, y: 0, width: 64, height: 64 }]);
    await expectCode(
      encodeVideo(req({ prefilter: { filter: new RoiPrefilter(), schedule: [{ atSec: 0, map }] } })),
      "MAP_SIZE_MISMATCH",
      /1280x360/,
    );
  });

  it("when ffmpeg itself fails mid-way, raises FFMPEG_FAILED and removes the partial output", async () => {
    await expectCode(encodeVideo(req({ speed: "no-such-preset" })), "FFMPEG_FAILED", /exited with code/);
  });
});
