/**
 * Every model behind the MllmClient port passes the same contract (tests/support/mllm-conformance.ts):
 * the embedded engine in process and on worker threads, and the OpenAI-compatible client against a
 * local stand-in for the protocol (scripted like a model that reads the sign; it runs no model).
 */
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { EmbeddedOcrEngine } from "../../sfu/mllm/embedded/engine.ts";
import { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";
import { OpenAiCompatibleClient } from "../../sfu/mllm/openai/client.ts";
import { BLUE_SIGN, describeMllmConformance, twoSignFrame } from "../support/mllm-conformance.ts";
import { startOpenAiProtocolStandIn, type StandIn } from "../support/openai-protocol-standin.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;

describeMllmConformance({
  name: "embedded OCR engine (in process)",
  async setup() {
    return { client: new EmbeddedOcrEngine(), frame: await twoSignFrame(ffmpeg) };
  },
});

describeMllmConformance({
  name: "embedded OCR engine (two worker threads)",
  async setup() {
    const client = new WorkerOcrEngine({ workers: 2 });
    await client.warmUp();
    return { client, frame: await twoSignFrame(ffmpeg) };
  },
});

let standIn: StandIn | null = null;
describeMllmConformance({
  name: "OpenAI-compatible client (local protocol stand-in)",
  async setup() {
    const box = [BLUE_SIGN.x / 1280, BLUE_SIGN.y / 720, (BLUE_SIGN.x + BLUE_SIGN.width) / 1280, (BLUE_SIGN.y + BLUE_SIGN.height) / 720];
    standIn = await startOpenAiProtocolStandIn({
      // Replies as a model that reads the picture would: boxes for the grounding prompt, the word otherwise.
      respond: (req) => (req.texts.some((t) => t.includes('{"boxes"')) ? JSON.stringify({ boxes: [box] }) : "The blue sign says HARBOR."),
    });
    return { client: new OpenAiCompatibleClient({ baseUrl: standIn.baseUrl, model: "stand-in-model", ffmpegPath: ffmpeg, retries: 0 }), frame: await twoSignFrame(ffmpeg) };
  },
  async teardown() {
    await standIn?.close();
  },
});
