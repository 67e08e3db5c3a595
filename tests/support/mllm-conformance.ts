/**
 * The contract every MllmClient keeps, as one suite each provider runs (after livekit agents'
 * shared provider tests): a model is added to the project by passing it. Each provider gives a
 * client and a frame showing a blue sign "HARBOR" and a red sign "VELVET"; the suite checks
 *   - ask: the answer to "What is written on the blue sign?" names HARBOR, with the result's
 *     fields well formed (and a grounding box, when given, inside the picture and on that sign);
 *   - streaming (when the client streams): the chunks join to an answer naming HARBOR;
 *   - cancellation: an aborted signal ends the call with code CANCELLED;
 *   - errors by code: a malformed frame is INVALID_INPUT, not retryable;
 *   - grounding (when the client grounds): normalised boxes, the blue sign's first;
 *   - close resolves.
 * A local stand-in plays a remote service's protocol where the provider is one; it runs no model.
 */
import { describe, expect, it } from "vitest";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { MllmError, type MllmClient, type NormalizedBox, type VideoFrame } from "../../sfu/mllm/types.ts";

export const BLUE_SIGN = { x: 150, y: 200, width: 300, height: 90 };
export const RED_SIGN = { x: 800, y: 420, width: 300, height: 90 };
export const QUESTION = "What is written on the blue sign?";

/** A 1280x720 frame: a blue sign "HARBOR" and a red sign "VELVET" over a busy dark texture. */
export async function twoSignFrame(ffmpeg: string): Promise<VideoFrame> {
  const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
  const sign = (b: typeof BLUE_SIGN, colour: string, word: string) =>
    `drawbox=x=${b.x}:y=${b.y}:w=${b.width}:h=${b.height}:color=${colour}:t=fill,drawtext=fontfile=${font}:text='${word}':x=${b.x + 40}:y=${b.y + 25}:fontsize=40:fontcolor=white`;
  const vf = ["eq=brightness=-0.3", sign(BLUE_SIGN, "0x2050d0", "HARBOR"), sign(RED_SIGN, "0xd02020", "VELVET"), "format=rgb24"].join(",");
  const { stdout } = await runFfmpeg(ffmpeg, ["-loglevel", "error", "-f", "lavfi", "-i", "cellauto=s=1280x720:rule=110:rate=1:seed=3", "-vf", vf, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], { captureStdout: true });
  return { width: 1280, height: 720, rgb: new Uint8Array(stdout), timestampMs: 0 };
}

export interface ConformanceProvider {
  readonly name: string;
  /** A ready client and the frame to ask about; called once before the tests. */
  setup(): Promise<{ client: MllmClient; frame: VideoFrame }>;
  teardown?(): Promise<void>;
}

function inside(b: NormalizedBox): boolean {
  return b.x >= 0 && b.y >= 0 && b.width > 0 && b.height > 0 && b.x + b.width <= 1 + 1e-9 && b.y + b.height <= 1 + 1e-9;
}

function onBlueSign(b: NormalizedBox): boolean {
  const cx = (b.x + b.width / 2) * 1280;
  const cy = (b.y + b.height / 2) * 720;
  return cx >= BLUE_SIGN.x && cx <= BLUE_SIGN.x + BLUE_SIGN.width && cy >= BLUE_SIGN.y && cy <= BLUE_SIGN.y + BLUE_SIGN.height;
}

async function codeOf(p: Promise<unknown>): Promise<MllmError> {
  try {
    await p;
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(MllmError);
    return err as MllmError;
  }
  throw new Error("expected the call to fail");
}

export function describeMllmConformance(p: ConformanceProvider): void {
  describe(`MllmClient contract: ${p.name}`, () => {
    let client: MllmClient;
    let frame: VideoFrame;
    const ready = async () => {
      if (!client) ({ client, frame } = await p.setup());
      return { client, frame };
    };

    it("ask: answers the question from the frame, with well-formed fields and a box on the sign when it gives one", async () => {
      const { client, frame } = await ready();
      const r = await client.ask({ prompt: QUESTION, question: QUESTION, frames: [frame] });
      expect(r.text).toContain("HARBOR");
      expect(r.cannotAnswer).toBe(false);
      expect(typeof r.model).toBe("string");
      expect(r.model.length).toBeGreaterThan(0);
      expect(r.latencyMs).toBeGreaterThanOrEqual(0);
      if (r.grounding) {
        expect(inside(r.grounding.box), JSON.stringify(r.grounding)).toBe(true);
        expect(onBlueSign(r.grounding.box), JSON.stringify(r.grounding)).toBe(true);
        expect(r.grounding.confidence).toBeGreaterThanOrEqual(0);
        expect(r.grounding.confidence).toBeLessThanOrEqual(1);
      }
    });

    it("streaming: the chunks join to the answer (clients that stream)", async () => {
      const { client, frame } = await ready();
      if (!client.askStream) return expect(client.askStream).toBeUndefined();
      let text = "";
      let chunks = 0;
      for await (const c of client.askStream({ prompt: QUESTION, question: QUESTION, frames: [frame] })) {
        expect(typeof c).toBe("string");
        text += c;
        chunks++;
      }
      expect(chunks).toBeGreaterThan(0);
      expect(text).toContain("HARBOR");
    });

    it("cancellation: an aborted signal ends ask (and a stream) with CANCELLED", async () => {
      const { client, frame } = await ready();
      const ctl = new AbortController();
      ctl.abort(new Error("the asker left"));
      expect((await codeOf(client.ask({ prompt: QUESTION, question: QUESTION, frames: [frame], signal: ctl.signal }))).code).toBe("CANCELLED");
      if (client.askStream) {
        const it = client.askStream({ prompt: QUESTION, question: QUESTION, frames: [frame], signal: ctl.signal });
        expect((await codeOf(it[Symbol.asyncIterator]().next())).code).toBe("CANCELLED");
      }
    });

    it("errors by code: a malformed frame is INVALID_INPUT and not retryable", async () => {
      const { client } = await ready();
      const bad: VideoFrame = { width: 64, height: 64, rgb: new Uint8Array(10), timestampMs: 0 };
      const err = await codeOf(client.ask({ prompt: QUESTION, question: QUESTION, frames: [bad] }));
      expect(err.code).toBe("INVALID_INPUT");
      expect(err.retryable).toBe(false);
    });

    it("grounding: normalised boxes, the sign the question means first (clients that ground)", async () => {
      const { client, frame } = await ready();
      if (!client.ground) return expect(client.ground).toBeUndefined();
      const boxes = await client.ground({ question: QUESTION, frame });
      expect(boxes.length).toBeGreaterThan(0);
      for (const b of boxes) expect(inside(b), JSON.stringify(b)).toBe(true);
      expect(onBlueSign(boxes[0]!), JSON.stringify(boxes[0])).toBe(true);
    });

    it("close resolves", async () => {
      const { client } = await ready();
      await client.close?.();
      await p.teardown?.();
    });
  });
}
