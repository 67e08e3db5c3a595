/**
 * Speed of the embedded OCR engine: milliseconds for detect (detector only) and read (detector +
 * recogniser) on the synthetic sign scene at 640x360, 1024x576 and 1280x720, mean of 5 runs after
 * a warm-up; then, at 1280x720, how a smaller detector input (limitSideLen) trades accuracy for
 * speed. Run: `npx tsx sfu/mllm/embedded/bench-embedded.ts [--threads N]`.
 */
import { EmbeddedOcrEngine } from "./engine.ts";
import { renderScene, SIGN_LINES } from "./test-scene.ts";
import type { VideoFrame } from "../types.ts";

const RUNS = 5;

function threadsArg(): number {
  const i = process.argv.indexOf("--threads");
  const n = i >= 0 ? Number(process.argv[i + 1]) : 1;
  return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
}

async function meanMs(task: () => Promise<unknown>): Promise<number> {
  await task(); // warm-up: first runs allocate and tune kernels
  let total = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await task();
    total += performance.now() - t0;
  }
  return total / RUNS;
}

async function signLinesRead(engine: EmbeddedOcrEngine, frame: VideoFrame): Promise<number> {
  const texts = new Set((await engine.readText(frame)).map((l) => l.text));
  return SIGN_LINES.filter((t) => texts.has(t)).length;
}

async function main(): Promise<void> {
  const threads = threadsArg();
  console.log(`embedded OCR (PP-OCRv4 det+rec, onnxruntime-node CPU, ${threads} thread(s)), mean of ${RUNS} runs`);
  const engine = new EmbeddedOcrEngine({ intraOpNumThreads: threads });
  await engine.warmUp();
  const sizes = [
    { width: 640, height: 360, fontSize: 12 },
    { width: 1024, height: 576, fontSize: 19 },
    { width: 1280, height: 720, fontSize: 24 },
  ];
  console.log("resolution  text px  detect ms  read ms  lines  sign lines read exactly");
  for (const s of sizes) {
    const { frame } = await renderScene(s);
    const detect = await meanMs(() => engine.detectText(frame));
    const read = await meanMs(() => engine.readText(frame));
    const lines = (await engine.readText(frame)).length;
    const exact = await signLinesRead(engine, frame);
    console.log(
      `${`${s.width}x${s.height}`.padEnd(11)} ${String(s.fontSize).padStart(7)}  ${detect.toFixed(0).padStart(9)}  ${read
        .toFixed(0)
        .padStart(7)}  ${String(lines).padStart(5)}  ${exact}/${SIGN_LINES.length}`,
    );
  }
  console.log("\n1280x720, detector input limit vs speed and accuracy (sign lines read exactly)");
  console.log("limitSideLen  text px  detect ms  read ms  sign lines");
  for (const limit of [960, 736, 640, 480]) {
    const e = new EmbeddedOcrEngine({ intraOpNumThreads: threads, detector: { limitSideLen: limit } });
    for (const fontSize of [24, 16, 12]) {
      const { frame } = await renderScene({ width: 1280, height: 720, fontSize });
      const detect = await meanMs(() => e.detectText(frame));
      const read = await meanMs(() => e.readText(frame));
      const exact = await signLinesRead(e, frame);
      console.log(
        `${String(limit).padStart(12)}  ${String(fontSize).padStart(7)}  ${detect.toFixed(0).padStart(9)}  ${read
          .toFixed(0)
          .padStart(7)}  ${exact}/${SIGN_LINES.length}`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
