/**
 * The call bench's command line, parsed once at the edge into typed options; a bad flag is an
 * INVALID_OPTION error that names it. No process access: the entry point passes argv.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { defaultOcrWorkers } from "../mllm/embedded/worker-engine.ts";
import { BenchError } from "./errors.ts";

export const HELP = `Usage: npm run bench:call -- [options]

Starts a CallServer on 127.0.0.1 with the embedded OCR engine (in this process) and publishers
(in one child Node process, so the server's CPU can be told apart from theirs), all offline, then
measures:
  1. question -> answer latency: one 1280x720 15 fps 600 kbps publisher asks N questions about a
     sign (one after another): ask() to first and to final answer chunk, p50/p95, answers right;
  2. receive-path latency (last packet of a frame -> decoded frame), from the server's metrics;
  3. CPU per call: server Node process + the call's decoder ffmpeg, over a 10 s window without
     questions, in percent of one core;
  4. fairness: one question in room B alone, and while room A floods its AI peer with 15 questions
     at once (the extra ones get "too many questions"; the model is shared between rooms in turn);
  5. capacity: 640x360 15 fps 300 kbps calls (x264 ultrafast), one room each, added one at a time;
     the highest level where no call lost frames and every call kept within 2 fps of the frame
     rate the server asked it for (its rate target: 10 fps under the resilient policy at 300 kbps).

Options:
  --json              end with one JSON line: {"answerLatencyMs":{"p50","p95"},"receiveLatencyMs":{...},
                      "cpuPercentPerCall","maxCalls","fairness":{"aloneMs","underFloodMs"},...}
  --fairness-rounds N rounds of the fairness phase (default 6: B asks 50, 400 and 800 ms into A's
                      flood, in turn)
  --ocr-workers N     embedded engine worker threads (default as npm start: one less than the cores, at least 1)
  --delay-based on|off  the call server's GCC delay-based rate estimate (default on, as npm start)
  --questions N       questions in step 1 (default 20)
  --max-calls N       highest capacity level tried (default 8)
  --seed N            seed of the clip: texture and the sign's text (default 1)
  --cpu-calls K       concurrent 1280x720 calls in the CPU window (default 1)
  --hold-sec S        seconds each capacity level is held (default 8)
  --help              this text

Environment: FFMPEG_PATH picks the ffmpeg binary (else ffmpeg-static, else ffmpeg on PATH).`;

export interface BenchOptions {
  readonly json: boolean;
  readonly questions: number;
  readonly maxCalls: number;
  readonly seed: number;
  readonly cpuCalls: number;
  readonly holdSec: number;
  readonly fairnessRounds: number;
  readonly ocrWorkers: number;
  readonly delayBased: boolean;
}

function int(flag: string, raw: string, lo: number, hi: number): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < lo || n > hi) {
    throw new BenchError("INVALID_OPTION", `--${flag} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: "boolean", default: false },
        questions: { type: "string", default: "20" },
        "max-calls": { type: "string", default: "8" },
        seed: { type: "string", default: "1" },
        "cpu-calls": { type: "string", default: "1" },
        "hold-sec": { type: "string", default: "8" },
        "fairness-rounds": { type: "string", default: "6" },
        "ocr-workers": { type: "string" },
        "delay-based": { type: "string", default: "on" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (err) {
    throw new BenchError("INVALID_OPTION", `${(err as Error).message} (see --help)`, { cause: err });
  }
  if (values.help) return "help";
  const delayBased = values["delay-based"] as string;
  if (delayBased !== "on" && delayBased !== "off") throw new BenchError("INVALID_OPTION", `--delay-based must be on or off, got ${JSON.stringify(delayBased)}`);
  return {
    delayBased: delayBased === "on",
    json: values.json === true,
    questions: int("questions", values.questions as string, 1, 500),
    maxCalls: int("max-calls", values["max-calls"] as string, 1, 64),
    seed: int("seed", values.seed as string, 0, 2 ** 31 - 1),
    cpuCalls: int("cpu-calls", values["cpu-calls"] as string, 1, 8),
    holdSec: int("hold-sec", values["hold-sec"] as string, 2, 120),
    fairnessRounds: int("fairness-rounds", values["fairness-rounds"] as string, 1, 20),
    ocrWorkers: values["ocr-workers"] === undefined ? defaultOcrWorkers(availableParallelism()) : int("ocr-workers", values["ocr-workers"] as string, 1, 64),
  };
}
