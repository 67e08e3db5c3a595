/**
 * Builds the models a run talks to from its flags: the answering engine, the region source for
 * the context-aware method, and the judge. Reads the API key from the environment variable the
 * user named (entry-point code: the only place the environment is read).
 */
import { boxesForMap } from "../../sfu/agent/context-engine.ts";
import { EmbeddedOcrEngine } from "../../sfu/mllm/embedded/engine.ts";
import { OpenAiCompatibleClient } from "../../sfu/mllm/openai/client.ts";
import type { MllmClient, NormalizedBox, VideoFrame } from "../../sfu/mllm/types.ts";
import type { RunConfig } from "../types.ts";
import type { RunArgs } from "./args.ts";

export interface Engines {
  readonly answer: MllmClient;
  readonly findRegions?: (question: string, frame: VideoFrame) => Promise<NormalizedBox[]>;
  readonly judge?: MllmClient;
  readonly closeExtra?: () => Promise<void>;
}

export async function createEngines(args: RunArgs, config: RunConfig, ffmpeg: string, env: Readonly<Record<string, string | undefined>>): Promise<Engines> {
  let embedded: EmbeddedOcrEngine | null = null;
  const getEmbedded = () => (embedded ??= new EmbeddedOcrEngine());
  let answer: MllmClient;
  let judge: MllmClient | undefined;
  if (args.engine === "embedded") {
    answer = getEmbedded();
  } else {
    const apiKey = env[args.apiKeyEnv];
    const common = {
      baseUrl: args.baseUrl!, timeoutMs: args.timeoutMs, retries: args.retries, concurrency: args.concurrency,
      maxImageSide: args.maxSide, ffmpegPath: ffmpeg, ...(apiKey ? { apiKey } : {}),
    };
    answer = new OpenAiCompatibleClient({ ...common, model: args.model! });
    if (args.judgeModel) judge = new OpenAiCompatibleClient({ ...common, model: args.judgeModel });
  }
  let findRegions: Engines["findRegions"];
  if (config.methods.includes("context") && config.regionSource === "detector") {
    // The call's choice of boxes (sfu/agent/context-engine.ts): the sign grounding picked, or every
    // candidate when the question does not settle which.
    findRegions = async (question, frame) => boxesForMap(await getEmbedded().textRegionsForQuestion(question, frame));
  } else if (config.methods.includes("context") && config.regionSource === "grounding") {
    const ground = answer.ground?.bind(answer);
    if (!ground) throw new Error(`the ${answer.name} engine cannot ground regions; use --region-source detector`);
    findRegions = (question, frame) => ground({ question, frame });
  }
  return {
    answer,
    ...(findRegions ? { findRegions } : {}),
    ...(judge ? { judge } : {}),
    closeExtra: async () => {
      if (embedded && embedded !== answer) await embedded.close?.();
    },
  };
}
