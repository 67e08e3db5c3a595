import { describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";
import { decodeJpeg, encodeJpeg, fitWithin, jpegSize } from "./jpeg.ts";
import { MllmError, type VideoFrame } from "./types.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;

/** A flat colour with a little seeded noise, so the encoder has real texture to work on. */
function noisyFrame(width: number, height: number, rgb: [number, number, number], seed = 1): VideoFrame {
  const rng = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, rgb[i % 3]! + Math.round((rng() - 0.5) * 20)));
  return { width, height, rgb: data, timestampMs: 0 };
}

function meanColour(frame: VideoFrame): [number, number, number] {
  const sum = [0, 0, 0];
  for (let i = 0; i < frame.rgb.length; i++) sum[i % 3]! += frame.rgb[i]!;
  const n = frame.width * frame.height;
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

describe("encodeJpeg", () => {
  it("with a 160x120 frame, round-trips through ffmpeg keeping size and mean colour", async () => {
    const frame = noisyFrame(160, 120, [200, 90, 40]);
    const jpeg = await encodeJpeg(ffmpeg, frame);
    expect(jpegSize(jpeg)).toEqual({ width: 160, height: 120 });
    const back = await decodeJpeg(ffmpeg, jpeg);
    const [r, g, b] = meanColour(back);
    expect(Math.abs(r - 200)).toBeLessThan(4);
    expect(Math.abs(g - 90)).toBeLessThan(4);
    expect(Math.abs(b - 40)).toBeLessThan(4);
  });

  it("with maxSide smaller than the frame, scales the longest side down keeping the shape", async () => {
    const jpeg = await encodeJpeg(ffmpeg, noisyFrame(641, 360, [20, 120, 220]), { maxSide: 320 });
    expect(jpegSize(jpeg)).toEqual({ width: 320, height: 180 });
  });

  it("with a lower quality number, produces a bigger file", async () => {
    const frame = noisyFrame(160, 120, [128, 128, 128], 7);
    const best = await encodeJpeg(ffmpeg, frame, { quality: 2 });
    const worst = await encodeJpeg(ffmpeg, frame, { quality: 31 });
    expect(best.length).toBeGreaterThan(worst.length);
  });

  it("with rgb of the wrong length, raises INVALID_INPUT naming both sizes", async () => {
    const frame: VideoFrame = { width: 4, height: 2, rgb: new Uint8Array(20), timestampMs: 0 };
    const err = await encodeJpeg(ffmpeg, frame).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MllmError);
    expect((err as MllmError).code).toBe("INVALID_INPUT");
    expect((err as Error).message).toMatch(/24 bytes.*has 20/);
  });

  it("with quality outside 2..31, raises INVALID_INPUT before running ffmpeg", async () => {
    await expect(encodeJpeg("/nonexistent/ffmpeg", noisyFrame(2, 2, [0, 0, 0]), { quality: 1 })).rejects.toThrow(/quality.*2 to 31/);
  });

  it("with a missing ffmpeg, raises INVALID_INPUT naming the path", async () => {
    await expect(encodeJpeg("/nonexistent/ffmpeg", noisyFrame(2, 2, [0, 0, 0]))).rejects.toThrow(/\/nonexistent\/ffmpeg/);
  });
});

describe("fitWithin", () => {
  it("with a frame already small enough or no limit, keeps the size", () => {
    expect(fitWithin(640, 480, 640)).toEqual({ width: 640, height: 480 });
    expect(fitWithin(640, 480, undefined)).toEqual({ width: 640, height: 480 });
  });

  it("with a tall frame, limits the height", () => {
    expect(fitWithin(480, 1280, 640)).toEqual({ width: 240, height: 640 });
  });
});

describe("jpegSize", () => {
  it("with bytes that are not a JPEG, returns null", () => {
    expect(jpegSize(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeNull();
  });
});
