/**
 * The picture sent with an answer (`answer-frame`): the frame the answer used, scaled down to a
 * small JPEG, with the region the answer was read from outlined, so the asker can see what the AI
 * saw (and judge a wrong answer: a blurred sign, the wrong sign, an old frame).
 */
import type { AnswerFrame } from "../agent/agent.ts";
import { encodeJpeg } from "../mllm/jpeg.ts";
import type { VideoFrame } from "../mllm/types.ts";
import type { AnswerFrameMessage } from "../protocol/messages.ts";

/** Longest side of the picture: small enough for a signalling message, big enough to recognise the scene. */
export const ANSWER_FRAME_MAX_SIDE = 480;

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

export async function answerFramePicture(ffmpeg: string, f: AnswerFrame, receivedBitrateBps: number | null): Promise<AnswerFrameMessage> {
  const src = f.frame.frame;
  const drawn = f.box ? outlineBox(src, f.box, Math.max(2, Math.round(src.width / 320))) : src;
  const jpeg = await encodeJpeg(ffmpeg, drawn, { maxSide: ANSWER_FRAME_MAX_SIDE, quality: 6 });
  const scale = Math.min(1, ANSWER_FRAME_MAX_SIDE / Math.max(src.width, src.height));
  return {
    type: "answer-frame",
    questionId: f.questionId,
    jpegBase64: Buffer.from(jpeg).toString("base64"),
    width: Math.max(1, Math.round(src.width * scale)),
    height: Math.max(1, Math.round(src.height * scale)),
    captureMs: f.frame.captureMs,
    ageMs: Math.max(0, Math.round(f.answeredMs - f.frame.arrivalMs)),
    frameWidth: src.width,
    frameHeight: src.height,
    receivedBitrateBps: receivedBitrateBps === null ? null : Math.round(receivedBitrateBps),
    box: f.box ? { x: f.box.x, y: f.box.y, width: f.box.width, height: f.box.height } : null,
  };
}
