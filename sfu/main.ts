/**
 * `npm start`: the call server with the embedded engine as the AI peer's default model.
 *
 * Environment (read here only): PORT (default 8080), HOST (default 127.0.0.1), SFU_SECRET (HMAC
 * key for room tokens, >= 32 bytes; a random one per start when unset, fine for a single
 * server), FFMPEG_PATH, MLLM_BASE_URL + MLLM_MODEL (+ MLLM_API_KEY) to use an OpenAI-compatible
 * model instead of the embedded one, RECEIVE_POLICY (resilient, the default, or classic),
 * RECEIVE_FEC (on, the default: take a publisher's per-frame FEC parity stream under the resilient
 * policy; off: decline it, so a headless publisher falls back to intra-only frames on loss),
 * BROWSER_RECEIVE_POLICY (classic, the default, layered or resilient: the path under the resilient
 * policy for senders that offer no FEC, browsers; without repair resilient lost more of their
 * frames; layered repairs only the base temporal layer, for a page sending ?layers=L1T3),
 * OCR_WORKERS (embedded engine worker threads, default one less than the cores, at least 1: the
 * other core decodes video and runs the server), VISION_ON_DEMAND (off, the default, or on: between
 * questions the sender idles at 1 fps with its encoder unchanged, a question brings the full frame
 * rate back at once), MODEL_NEED (off, the default, or on: the rate walks down to the lowest level at which
 * the model still reads with margin; needs a model that rates readability, the embedded one does).
 */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { resolveFfmpeg } from "../encoder/ffmpeg/resolve.ts";
import { clientRoutes } from "../client/serve.ts";
import { CallServer } from "./call/call-server.ts";
import { defaultOcrWorkers, WorkerOcrEngine } from "./mllm/embedded/worker-engine.ts";
import { OpenAiCompatibleClient } from "./mllm/openai/client.ts";
import type { MllmClient } from "./mllm/types.ts";

const env = process.env;
const port = Number(env.PORT ?? 8080);
const host = env.HOST ?? "127.0.0.1";
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a whole number from 0 to 65535, got "${env.PORT}"`);
  process.exit(2);
}
const receivePolicy = env.RECEIVE_POLICY ?? "resilient";
if (receivePolicy !== "resilient" && receivePolicy !== "classic") {
  console.error(`RECEIVE_POLICY must be resilient or classic, got "${receivePolicy}"`);
  process.exit(2);
}
const browserReceivePolicy = env.BROWSER_RECEIVE_POLICY ?? "classic";
if (browserReceivePolicy !== "resilient" && browserReceivePolicy !== "classic" && browserReceivePolicy !== "layered") {
  console.error(`BROWSER_RECEIVE_POLICY must be classic, layered or resilient, got "${browserReceivePolicy}"`);
  process.exit(2);
}
const receiveFec = env.RECEIVE_FEC ?? "on";
if (receiveFec !== "on" && receiveFec !== "off") {
  console.error(`RECEIVE_FEC must be on or off, got "${receiveFec}"`);
  process.exit(2);
}
const onOff = (name: string): boolean => {
  const v = env[name] ?? "off";
  if (v !== "on" && v !== "off") {
    console.error(`${name} must be on or off, got "${v}"`);
    process.exit(2);
  }
  return v === "on";
};
const visionOnDemand = onOff("VISION_ON_DEMAND");
const modelNeed = onOff("MODEL_NEED");
const ocrWorkers = Number(env.OCR_WORKERS ?? defaultOcrWorkers(availableParallelism()));
if (!Number.isInteger(ocrWorkers) || ocrWorkers < 1 || ocrWorkers > 64) {
  console.error(`OCR_WORKERS must be a whole number from 1 to 64, got "${env.OCR_WORKERS}"`);
  process.exit(2);
}
const secret = env.SFU_SECRET ?? randomBytes(32).toString("hex");
const ffmpeg = resolveFfmpeg({ env }).path;
const embedded = new WorkerOcrEngine({ workers: ocrWorkers });
let model: MllmClient = embedded;
if (env.MLLM_BASE_URL && env.MLLM_MODEL) {
  model = new OpenAiCompatibleClient({ baseUrl: env.MLLM_BASE_URL, model: env.MLLM_MODEL, ffmpegPath: ffmpeg, ...(env.MLLM_API_KEY ? { apiKey: env.MLLM_API_KEY } : {}) });
}
const log = (level: string) => (event: string, fields: object) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), level, event, ...fields })}\n`);
const server = new CallServer({
  secret,
  ffmpeg,
  model,
  regionFinder: {
    // The model's own grounding where it has one (OpenAI-compatible models), else the embedded
    // text detector matched against the question's words.
    find: async (q, f) => {
      if (model !== embedded && model.ground) {
        const boxes = await model.ground({ question: q, frame: f }).catch((err: Error) => {
          log("warn")("agent.grounding-failed", { model: model.name, message: err.message });
          return [];
        });
        if (boxes.length > 0) return { boxes, matched: true };
      }
      return embedded.textRegionsForQuestion(q, f);
    },
  },
  logger: { info: log("info"), warn: log("warn"), error: log("error") },
  httpRoutes: clientRoutes(),
  receivePolicy,
  browserReceivePolicy,
  fec: receiveFec === "on",
  visionOnDemand: visionOnDemand ? {} : null,
  modelNeed: modelNeed ? {} : null,
  // The embedded engine's threads, or an OpenAI-compatible endpoint taking a few requests at once.
  modelConcurrency: model === embedded ? 2 * ocrWorkers : 4,
});
await embedded.warmUp();
const addr = await server.listen(port, host);
console.log(`call server on http://${addr.address}:${addr.port}: open it in a browser to join (signalling ws://${addr.address}:${addr.port}/ws, metrics /api/metrics), model ${model.name}${model === embedded ? ` (${ocrWorkers} worker${ocrWorkers > 1 ? "s" : ""})` : ""}, receive policy ${receivePolicy}${receivePolicy === "resilient" ? `, FEC ${receiveFec}, browsers ${browserReceivePolicy}` : ""}, vision ${visionOnDemand ? "on demand" : "always on"}, model-need cap ${modelNeed ? (model === embedded ? "on" : "on (inert: this model rates no readability)") : "off"}`);

const stop = async () => {
  await server.close();
  await model.close?.();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
