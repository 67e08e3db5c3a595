/**
 * YUV 4:2:0 planar frames ("I420", ffmpeg's yuv420p): a full-size luma plane followed by two chroma
 * planes of ceil(w/2) x ceil(h/2), each row packed without padding. This is the layout of
 * `ffmpeg -pix_fmt yuv420p -f rawvideo` and of WebCodecs' VideoFrame.copyTo for format "I420".
 *
 * Pure TypedArray code (no Node imports): the browser client reuses it.
 */
import { EncoderError } from "../errors.ts";

export interface I420Frame {
  readonly width: number;
  readonly height: number;
  /** width x height luma samples. */
  readonly y: Uint8Array;
  /** ceil(width/2) x ceil(height/2) Cb samples. */
  readonly u: Uint8Array;
  /** ceil(width/2) x ceil(height/2) Cr samples. */
  readonly v: Uint8Array;
}

/** Bytes of one I420 frame: w*h luma plus two ceil(w/2) x ceil(h/2) chroma planes. */
export function i420Size(width: number, height: number): number {
  checkDims(width, height, "I420 frame");
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

export function checkDims(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new EncoderError("INVALID_SIZE", `${what} size must be positive integers, got ${width}x${height}`);
  }
}

/**
 * Views the three planes of one contiguous raw frame (no copy: writing to the frame writes to
 * `buf`). The length must be exactly one frame, which catches a wrong size given to ffmpeg or a
 * stream read out of step.
 */
export function i420FromBuffer(buf: Uint8Array, width: number, height: number): I420Frame {
  const size = i420Size(width, height);
  if (buf.length !== size) {
    throw new EncoderError(
      "INVALID_SIZE",
      `an I420 frame of ${width}x${height} takes ${size} bytes (Y ${width * height} + U + V ${Math.ceil(width / 2) * Math.ceil(height / 2)} each), got a buffer of ${buf.length}`,
    );
  }
  const ySize = width * height;
  const cSize = (size - ySize) / 2;
  return {
    width,
    height,
    y: buf.subarray(0, ySize),
    u: buf.subarray(ySize, ySize + cSize),
    v: buf.subarray(ySize + cSize, size),
  };
}

/** A zeroed frame whose planes share one contiguous buffer, ready for `i420ToBuffer` or ffmpeg. */
export function createI420(width: number, height: number): I420Frame {
  return i420FromBuffer(new Uint8Array(i420Size(width, height)), width, height);
}

/**
 * Packs a frame into one contiguous buffer (into `out` when given, which must be one frame long).
 * Always copies, so the result never changes when the frame is filtered again later; when `out`
 * is the frame's own backing buffer the copy is a no-op.
 */
export function i420ToBuffer(frame: I420Frame, out?: Uint8Array): Uint8Array {
  checkI420(frame, "frame");
  const size = i420Size(frame.width, frame.height);
  const dst = out ?? new Uint8Array(size);
  if (dst.length !== size) {
    throw new EncoderError("INVALID_SIZE", `an I420 frame of ${frame.width}x${frame.height} takes ${size} bytes, got an output buffer of ${dst.length}`);
  }
  dst.set(frame.y, 0);
  dst.set(frame.u, frame.y.length);
  dst.set(frame.v, frame.y.length + frame.u.length);
  return dst;
}

/** Checks a frame's size and plane lengths, naming the expected and actual sizes. */
export function checkI420(frame: I420Frame, what: string): void {
  const { width: w, height: h } = frame;
  checkDims(w, h, what);
  const c = Math.ceil(w / 2) * Math.ceil(h / 2);
  if (frame.y.length !== w * h || frame.u.length !== c || frame.v.length !== c) {
    throw new EncoderError(
      "INVALID_SIZE",
      `${what} is ${w}x${h}, so its planes must hold Y ${w * h}, U ${c}, V ${c} bytes; got Y ${frame.y.length}, U ${frame.u.length}, V ${frame.v.length}`,
    );
  }
}
