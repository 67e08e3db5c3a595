/**
 * Turns one packed-RGB frame into a JPEG with ffmpeg, for models that take images over HTTP.
 * ffmpeg does the scaling and the encoding, so no image library is needed in Node.
 */
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { MllmError, type VideoFrame } from "./types.ts";

export interface JpegOptions {
  /** ffmpeg's -q:v for MJPEG: 2 (best) to 31 (worst). Default 4. */
  readonly quality?: number;
  /** Longest side of the output in pixels; bigger frames are scaled down keeping their shape. Default: no limit. */
  readonly maxSide?: number;
  /** Kills ffmpeg when this aborts. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_JPEG_QUALITY = 4;

/** Output size for a frame of width x height whose longest side may be at most maxSide. */
export function fitWithin(width: number, height: number, maxSide: number | undefined): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (maxSide === undefined || longest <= maxSide) return { width, height };
  const f = maxSide / longest;
  return { width: Math.max(1, Math.round(width * f)), height: Math.max(1, Math.round(height * f)) };
}

function checkInput(frame: VideoFrame, quality: number, maxSide: number | undefined): void {
  const { width, height } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new MllmError("INVALID_INPUT", `frame size must be positive whole numbers, got ${width}x${height}`);
  }
  const expected = width * height * 3;
  if (frame.rgb.length !== expected) {
    throw new MllmError(
      "INVALID_INPUT",
      `frame of ${width}x${height} needs ${expected} bytes of packed RGB (width*height*3), but rgb has ${frame.rgb.length}`,
    );
  }
  if (!Number.isInteger(quality) || quality < 2 || quality > 31) {
    throw new MllmError("INVALID_INPUT", `JPEG quality must be a whole number from 2 to 31 (ffmpeg -q:v), got ${quality}`);
  }
  if (maxSide !== undefined && (!Number.isInteger(maxSide) || maxSide < 1)) {
    throw new MllmError("INVALID_INPUT", `JPEG maxSide must be a positive whole number of pixels, got ${maxSide}`);
  }
}

/** Encodes the frame as a baseline JPEG (4:2:0, full range), scaled down to maxSide when given. */
export async function encodeJpeg(ffmpegPath: string, frame: VideoFrame, options: JpegOptions = {}): Promise<Uint8Array> {
  const quality = options.quality ?? DEFAULT_JPEG_QUALITY;
  checkInput(frame, quality, options.maxSide);
  const out = fitWithin(frame.width, frame.height, options.maxSide);
  const filters: string[] = [];
  if (out.width !== frame.width || out.height !== frame.height) filters.push(`scale=${out.width}:${out.height}:flags=area`);
  // 4:2:0 rather than ffmpeg's default 4:4:4 for RGB input: every JPEG decoder reads it, and it is smaller.
  filters.push("format=yuvj420p");
  const args = [
    "-loglevel", "error",
    "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${frame.width}x${frame.height}`, "-i", "pipe:0",
    "-vf", filters.join(","),
    "-frames:v", "1", "-c:v", "mjpeg", "-q:v", String(quality),
    "-f", "image2pipe", "pipe:1",
  ];
  try {
    const { stdout } = await runFfmpeg(ffmpegPath, args, {
      stdin: frame.rgb,
      captureStdout: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (stdout.length === 0) throw new Error("ffmpeg wrote no bytes");
    return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
  } catch (err) {
    if (options.signal?.aborted) throw new MllmError("CANCELLED", "JPEG encoding was cancelled", { cause: err });
    const why = err instanceof Error ? err.message : String(err);
    throw new MllmError("INVALID_INPUT", `could not encode a ${frame.width}x${frame.height} frame as JPEG with ffmpeg at ${ffmpegPath}: ${why}`, {
      cause: err,
    });
  }
}

/** Width and height from a JPEG's start-of-frame marker, or null when the bytes are not a JPEG. */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    // SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]! };
    }
    i += 2 + length;
  }
  return null;
}

/** Decodes a JPEG back to packed RGB with ffmpeg (for checks and reports). */
export async function decodeJpeg(ffmpegPath: string, bytes: Uint8Array): Promise<VideoFrame> {
  const size = jpegSize(bytes);
  if (!size) throw new MllmError("INVALID_INPUT", `not a JPEG (${bytes.length} bytes, no start-of-frame marker)`);
  const args = ["-loglevel", "error", "-f", "image2pipe", "-c:v", "mjpeg", "-i", "pipe:0", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"];
  const { stdout } = await runFfmpeg(ffmpegPath, args, { stdin: bytes, captureStdout: true }).catch((err: unknown) => {
    throw new MllmError("INVALID_INPUT", `ffmpeg could not decode the JPEG: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  if (stdout.length !== size.width * size.height * 3) {
    throw new MllmError("INVALID_INPUT", `ffmpeg decoded ${stdout.length} bytes from a ${size.width}x${size.height} JPEG`);
  }
  return { width: size.width, height: size.height, rgb: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length), timestampMs: 0 };
}
