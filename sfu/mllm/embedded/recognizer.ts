/**
 * Text recognition with PaddleOCR's PP-OCRv4 recogniser (an SVTR-style network with a CTC head).
 * The network reads a 48-pixel-high strip left to right and outputs, per horizontal step, a
 * probability for each character class plus a "blank"; decoding follows CTC (Graves et al., ICML
 * 2006) as in CRNN (Shi et al., TPAMI 2016): take the best class per step, merge repeats, drop
 * blanks. Pre-processing follows PaddleOCR's TextRecognizer (rec_image_shape 3,48,320).
 */
import * as ort from "onnxruntime-node";
import { MllmError, type VideoFrame } from "../types.ts";
import type { PixelBox, TextLine } from "./geometry.ts";
import { ctcGreedyDecode } from "./ctc.ts";
import { REC_NORMALISATION, checkFrame, resizeIntoTensor } from "./image.ts";

export { ctcGreedyDecode, type Decoded } from "./ctc.ts";

export interface RecognizerOptions {
  /**
   * Strips per model run. PaddleOCR uses 6, but a batch is padded to its widest strip, and with
   * detector boxes of very different widths (false boxes on busy backgrounds are often long) the
   * padding made a 20-box frame slower (856 vs 669 ms on one thread) and changed what short strips
   * read. Default 1.
   */
  readonly batchSize?: number;
  /** Lines read with a lower mean confidence are dropped (PaddleOCR: drop_score 0.5). */
  readonly dropScore?: number;
  /** Widest strip, as a multiple of the height; longer lines are squeezed (PaddleOCR has no cap). */
  readonly maxWidthRatio?: number;
  /** Put back spaces the model dropped between Latin words (see ctcGreedyDecode). Default true. */
  readonly restoreSpaces?: boolean;
  /**
   * Narrowest strip, as a multiple of the height: PaddleOCR pads every strip to at least 320x48,
   * as in training. Going narrower saves ~20% on frames with many short boxes, but changes what
   * some strips read, so we keep PaddleOCR's.
   */
  readonly minWidthRatio?: number;
}

export const RECOGNIZER_DEFAULTS: Required<RecognizerOptions> = {
  batchSize: 1,
  dropScore: 0.5,
  maxWidthRatio: 40,
  restoreSpaces: true,
  minWidthRatio: 320 / 48,
};

export const REC_HEIGHT = 48;

/**
 * Reads the text in each box. Boxes are cut straight out of the frame (the detector's boxes are
 * axis-aligned, so no perspective warp), sorted by aspect ratio so a batch pads little, and
 * resized to height 48 keeping their aspect, padded on the right with zeros (mid-grey after
 * normalisation) as PaddleOCR does. Returns one entry per box, in the input order; lines below
 * `dropScore` come back with empty text.
 */
export async function recognizeBoxes(
  session: ort.InferenceSession,
  charset: readonly string[],
  frame: VideoFrame,
  boxes: readonly PixelBox[],
  options: RecognizerOptions = {},
): Promise<TextLine[]> {
  checkFrame(frame);
  const o = { ...RECOGNIZER_DEFAULTS, ...options };
  const ratios = boxes.map((b) => Math.max(1, b.width) / Math.max(1, b.height));
  const order = boxes.map((_, i) => i).sort((a, b) => ratios[a]! - ratios[b]!);
  const results: TextLine[] = boxes.map((box) => ({ text: "", box, confidence: 0 }));
  for (let start = 0; start < order.length; start += o.batchSize) {
    const batch = order.slice(start, start + o.batchSize);
    let maxRatio = o.minWidthRatio;
    for (const i of batch) maxRatio = Math.max(maxRatio, Math.min(o.maxWidthRatio, ratios[i]!));
    const planeWidth = Math.ceil(REC_HEIGHT * maxRatio);
    const per = 3 * REC_HEIGHT * planeWidth;
    const data = new Float32Array(per * batch.length); // zeros = padding
    batch.forEach((i, k) => {
      const width = Math.max(1, Math.min(planeWidth, Math.ceil(REC_HEIGHT * ratios[i]!)));
      resizeIntoTensor(
        frame,
        boxes[i]!,
        width,
        REC_HEIGHT,
        { data, offset: k * per, planeWidth, planeHeight: REC_HEIGHT },
        REC_NORMALISATION,
      );
    });
    const input = new ort.Tensor("float32", data, [batch.length, 3, REC_HEIGHT, planeWidth]);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run({ [session.inputNames[0]!]: input });
    } catch (err) {
      throw new MllmError("BAD_RESPONSE", `text recogniser failed: ${(err as Error).message}`, { cause: err });
    }
    const probs = out[session.outputNames[0]!] as ort.Tensor | undefined;
    if (!probs || probs.dims.length !== 3 || probs.dims[0] !== batch.length) {
      throw new MllmError("BAD_RESPONSE", "text recogniser returned an unexpected output shape");
    }
    const steps = probs.dims[1]!;
    const classes = probs.dims[2]!;
    const values = probs.data as Float32Array;
    batch.forEach((i, k) => {
      const d = ctcGreedyDecode(values, k * steps * classes, steps, classes, charset, o.restoreSpaces);
      if (d.confidence >= o.dropScore && d.text !== "") {
        results[i] = { text: d.text, box: boxes[i]!, confidence: d.confidence, charConfidence: d.charConfidence };
      }
    });
  }
  return results;
}
