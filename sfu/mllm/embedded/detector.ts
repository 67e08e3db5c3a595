/**
 * Text detection with PaddleOCR's PP-OCRv4 detector, a DB network: "Real-time Scene Text Detection
 * with Differentiable Binarization", Liao et al., AAAI 2020. The network outputs, per pixel, the
 * probability of being inside a *shrunk* text region; post-processing thresholds it, takes connected
 * regions and grows each back ("unclip") by the distance DB shrank it by in training.
 *
 * Pre-processing follows PaddleOCR's DetResizeForTest / NormalizeImage (BGR planes, ImageNet
 * mean/std); post-processing is in db-postprocess.ts, with axis-aligned boxes, which is what an
 * importance map and horizontal signage need.
 */
import * as ort from "onnxruntime-node";
import { MllmError, type VideoFrame } from "../types.ts";
import { DETECTOR_DEFAULTS, dbPostprocess, detectorInputSize, type DetectorOptions } from "./db-postprocess.ts";
import type { TextBox } from "./geometry.ts";
import { DET_NORMALISATION, checkFrame, resizeIntoTensor } from "./image.ts";

export { DETECTOR_DEFAULTS, dbPostprocess, detectorInputSize, type DetectorOptions } from "./db-postprocess.ts";

/** Runs the detector on one frame. The caller serialises calls on one session. */
export async function detectText(
  session: ort.InferenceSession,
  frame: VideoFrame,
  options: DetectorOptions = {},
): Promise<TextBox[]> {
  checkFrame(frame);
  const o = { ...DETECTOR_DEFAULTS, ...options };
  const size = detectorInputSize(frame.width, frame.height, o.limitSideLen);
  const data = new Float32Array(3 * size.width * size.height);
  resizeIntoTensor(
    frame,
    { x: 0, y: 0, width: frame.width, height: frame.height },
    size.width,
    size.height,
    { data, offset: 0, planeWidth: size.width, planeHeight: size.height },
    DET_NORMALISATION,
  );
  const input = new ort.Tensor("float32", data, [1, 3, size.height, size.width]);
  let result: ort.InferenceSession.OnnxValueMapType;
  try {
    result = await session.run({ [session.inputNames[0]!]: input });
  } catch (err) {
    throw new MllmError("BAD_RESPONSE", `text detector failed: ${(err as Error).message}`, { cause: err });
  }
  const output = result[session.outputNames[0]!] as ort.Tensor | undefined;
  if (!output || output.dims.length !== 4) {
    throw new MllmError("BAD_RESPONSE", "text detector returned no probability map");
  }
  const mapHeight = output.dims[2]!;
  const mapWidth = output.dims[3]!;
  return dbPostprocess(output.data as Float32Array, mapWidth, mapHeight, frame.width, frame.height, o);
}
