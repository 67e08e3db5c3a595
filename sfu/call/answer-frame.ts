/**
 * The picture of an answer (`answer-frame`, sent when the asker requests it): the frame the
 * answer used, kept shrunk by the agent, as a small JPEG with the region the answer was read from
 * outlined, so the asker can see what the AI saw (and judge a wrong answer: a blurred sign, the
 * wrong sign, an old frame).
 */
import type { AnswerFrame } from "../agent/agent.ts";
import { encodeJpeg } from "../mllm/jpeg.ts";
import type { VideoFrame } from "../mllm/types.ts";
import type { AnswerFrameMessage } from "../protocol/messages.ts";

/** A copy of the frame with a `thickness`-pixel outline (bright green) around a normalised box. */
export function outlineBox(frame: VideoFrame, box: { x: number; y: number; width: number; height: number }, thickness = 3): VideoFrame {
  const { width: w, height: h } = frame;
  const rgb = new Uint8Array(frame.rgb);
  const x0 = Math.max(0, Math.min(w - 1, Math.floor(box.x * w) - thickness));
  const y0 = Math.max(0, Math.min(h - 1, Math.floor(box.y * h) - thickness));
  const x1 = Math.max(x0, Math.min(w - 1, Math.ceil((box.x + box.width) * w) + thickness));
  const y1 = Math.max(y0, Math.min(h - 1, Math.ceil((box.y + box.height) * h) + thickness));
  const paint = (x: number, y: number) => rgb.set([40, 255, 80], (y * w + x) * 3);
  for (let t = 0; t < thickness; t++) {
    for (let x = x0; x <= x1; x++) {
      paint(x, Math.min(y1, y0 + t));
      paint(x, Math.max(y0, y1 - t));
    }
    for (let y = y0; y <= y1; y++) {
      paint(Math.min(x1, x0 + t), y);
      paint(Math.max(x0, x1 - t), y);
    }
  }
  return { ...frame, rgb };
}

/**
 * A frame shrunk so its longer side is at most `maxSide`, by averaging whole source pixels into
 * each output pixel (a box filter: no aliasing of small text into noise). Even sizes, for JPEG's
 * 4:2:0. Returns the frame itself when it is small enough.
 */
export function shrinkFrame(f: VideoFrame, maxSide: number): VideoFrame {
  const scale = maxSide / Math.max(f.width, f.height);
  if (scale >= 1) return f;
  const w = Math.max(2, Math.round((f.width * scale) / 2) * 2);
  const h = Math.max(2, Math.round((f.height * scale) / 2) * 2);
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * f.height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * f.height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * f.width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * f.width) / w));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const i = (yy * f.width + xx) * 3;
          r += f.rgb[i]!;
          g += f.rgb[i + 1]!;
          b += f.rgb[i + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      rgb.set([Math.round(r / n), Math.round(g / n), Math.round(b / n)], (y * w + x) * 3);
    }
  }
  return { width: w, height: h, rgb, timestampMs: f.timestampMs };
}

export async function answerFramePicture(ffmpeg: string, f: AnswerFrame, receivedBitrateBps: number | null): Promise<AnswerFrameMessage> {
  const src = f.frame.frame;
  const drawn = f.box ? outlineBox(src, f.box, 2) : src;
  const jpeg = await encodeJpeg(ffmpeg, drawn, { quality: 6 });
  return {
    type: "answer-frame",
    questionId: f.questionId,
    jpegBase64: Buffer.from(jpeg).toString("base64"),
    width: src.width,
    height: src.height,
    captureMs: f.frame.captureMs,
    ageMs: Math.max(0, Math.round(f.answeredMs - f.frame.arrivalMs)),
    frameWidth: f.frameWidth,
    frameHeight: f.frameHeight,
    receivedBitrateBps: receivedBitrateBps === null ? null : Math.round(receivedBitrateBps),
    box: f.box ? { x: f.box.x, y: f.box.y, width: f.box.width, height: f.box.height } : null,
  };
}
