/**
 * What the call bench shows and asks: a seeded clip with a sign of small text (gate, opening time,
 * seat) and a second, distracting sign, a swaying camera, and questions whose right answers are
 * known from the seed. Pure: the clip is rendered by encoder/synth/clip.ts.
 */
import type { ClipSpec, SignSpec } from "../../encoder/synth/clip.ts";
import { mulberry32, pick, randInt } from "../../encoder/synth/prng.ts";

export interface BenchQuestion {
  readonly text: string;
  /** Text a right answer contains (compared case- and space-insensitively). */
  readonly expect: string;
}

export interface BenchScene {
  readonly spec: ClipSpec;
  readonly sign: { readonly gate: string; readonly opens: string; readonly seat: string };
  readonly questions: readonly BenchQuestion[];
}

const LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ";

/**
 * The 1280x720 layout is the one of tests/integration/call.test.ts (known readable at 600 kbps);
 * other sizes scale it, so the 640x360 capacity clip shows the same picture.
 */
export function benchScene(seed: number, width = 1280, height = 720, durationSec = 8): BenchScene {
  const rng = mulberry32(seed);
  const gate = `${LETTERS[randInt(rng, 0, LETTERS.length - 1)]}${randInt(rng, 10, 98)}`;
  const opens = `${randInt(rng, 1, 12)}:${String(randInt(rng, 0, 59)).padStart(2, "0")}`;
  const opensText = `OPENS ${opens} ${pick(rng, ["AM", "PM"])}`;
  const seat = `${randInt(rng, 2, 40)}${pick(rng, ["A", "B", "C", "D"])}`;
  const k = width / 1280;
  const px = (v: number) => Math.round(v * k) & ~1;
  const signs: SignSpec[] = [
    { x: px(760), y: px(120), width: px(300), height: px(92), fontPx: Math.max(8, Math.round(20 * k)), font: "sans", lines: [`GATE ${gate}`, opensText, `SEAT ${seat}`] },
    { x: px(80), y: px(160), width: px(240), height: px(70), fontPx: Math.max(8, Math.round(22 * k)), font: "sans", lines: ["WELCOME", "OPEN DAILY"], backgroundColor: "0xe8e0d0" },
  ];
  return {
    spec: { width, height, fps: 30, durationSec, seed, shakePx: Math.max(2, Math.round(6 * k)), signs },
    sign: { gate, opens: opensText, seat },
    questions: [
      { text: "What gate number is shown on the sign?", expect: gate },
      { text: "Which seat is written on the sign?", expect: seat },
      { text: "What time does the gate open?", expect: opens },
    ],
  };
}

export function answerIsRight(answer: string, expect: string): boolean {
  // A refusal that lists what it could read ("... (I can read GATE K42 and SEAT 2C)") is no answer.
  if (/^\s*I (cannot|can't|could not|can read|need)\b/i.test(answer)) return false;
  const norm = (s: string) => s.toUpperCase().replace(/\s+/g, "");
  return norm(answer).includes(norm(expect));
}
