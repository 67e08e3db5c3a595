/**
 * How often the embedded engine answers right, wrong, or "cannot answer" as text gets smaller and
 * blurrier, for several settings of the per-character confidence floor (AnswerOptions
 * .minCharConfidence). This is how the default 0.8 was chosen. Each scene is read once; the answer
 * step (pure) is then run per threshold. Run: `npx tsx sfu/mllm/embedded/bench-answers.ts` (~30 s).
 */
import { answerQuestion } from "./answer.ts";
import { EmbeddedOcrEngine } from "./engine.ts";
import { renderScene } from "./test-scene.ts";

const QUESTIONS: [string, string][] = [
  ["What gate number is shown on the sign?", "K42"],
  ["What time does it open according to the sign?", "7:58 PM"],
  ["Which seat is written on the sign?", "18D"],
];
const THRESHOLDS = [0, 0.5, 0.6, 0.7, 0.8, 0.9];
/** Blur sigma as a share of the text size (x 1/24): 0..8 px on 24 px text. */
const BLUR_STEPS = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const SCENES = [
  { width: 1280, height: 720, fontSizes: [16, 20, 24, 28] },
  { width: 640, height: 360, fontSizes: [8, 10, 12, 14] },
];

async function main(): Promise<void> {
  const engine = new EmbeddedOcrEngine();
  const tally = THRESHOLDS.map(() => ({ right: 0, wrong: 0, cannot: 0 }));
  const wrongAtDefault: string[] = [];
  for (const s of SCENES) {
    for (const fontSize of s.fontSizes) {
      for (const step of BLUR_STEPS) {
        const sigma = (step * fontSize) / 24;
        const { frame } = await renderScene({ width: s.width, height: s.height, fontSize, blurSigma: sigma || undefined });
        const lines = await engine.readText(frame);
        THRESHOLDS.forEach((minCharConfidence, k) => {
          for (const [q, want] of QUESTIONS) {
            const a = answerQuestion(q, [lines], { minCharConfidence, frameWidth: s.width, frameHeight: s.height });
            if (a.cannotAnswer) tally[k]!.cannot++;
            else if (a.text === want) tally[k]!.right++;
            else {
              tally[k]!.wrong++;
              if (minCharConfidence === 0.8) wrongAtDefault.push(`${s.width}x${s.height} ${fontSize}px sigma ${sigma.toFixed(1)}: "${a.text}"`);
            }
          }
        });
      }
    }
  }
  const total = SCENES.reduce((n, s) => n + s.fontSizes.length, 0) * BLUR_STEPS.length * QUESTIONS.length;
  console.log(`${total} questions (sign text 8-28 px, blur 0-8 px per 24 px of text)`);
  console.log("minCharConfidence  right  wrong  cannot answer");
  THRESHOLDS.forEach((t, k) => {
    const r = tally[k]!;
    console.log(`${t.toFixed(1).padStart(17)}  ${String(r.right).padStart(5)}  ${String(r.wrong).padStart(5)}  ${String(r.cannot).padStart(13)}`);
  });
  if (wrongAtDefault.length > 0) console.log(`wrong at 0.8:\n  ${wrongAtDefault.join("\n  ")}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
