import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../encoder/synth/prng.ts";
import { stationaryLossRate } from "./config.ts";
import { LinkEmulator } from "./emulator.ts";
import { GilbertElliott, type LossProcess, makeLossProcess } from "./loss.ts";

/** Loss flags for n packets. */
function pattern(process: LossProcess | (() => boolean), n: number): boolean[] {
  const lose = typeof process === "function" ? process : () => process.lose();
  return Array.from({ length: n }, () => lose());
}

/** Lengths of runs of consecutive losses. */
function bursts(flags: readonly boolean[]): number[] {
  const out: number[] = [];
  let run = 0;
  for (const lost of flags) {
    if (lost) run++;
    else if (run > 0) {
      out.push(run);
      run = 0;
    }
  }
  if (run > 0) out.push(run);
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("Bernoulli loss", () => {
  it("loss ratio over 100 000 packets is within 0.005 of p = 0.1 (seed 11)", () => {
    const flags = pattern(makeLossProcess({ kind: "bernoulli", p: 0.1 }, mulberry32(11)), 100_000);
    const ratio = flags.filter(Boolean).length / flags.length;
    expect(Math.abs(ratio - 0.1), `ratio ${ratio}`).toBeLessThan(0.005);
  });

  it("p = 0 loses nothing, p = 1 loses everything", () => {
    expect(pattern(makeLossProcess({ kind: "bernoulli", p: 0 }, mulberry32(1)), 1000).some(Boolean)).toBe(false);
    expect(pattern(makeLossProcess({ kind: "bernoulli", p: 1 }, mulberry32(1)), 1000).every(Boolean)).toBe(true);
  });

  it("through the emulator: the loss ratio follows p and drops carry reason \"loss\"", () => {
    const link = new LinkEmulator({ loss: { kind: "bernoulli", p: 0.25 } }, { seed: 4 });
    const rs = Array.from({ length: 40_000 }, (_, i) => link.send(100, i));
    const lost = rs.filter((r) => !r.accepted && r.reason === "loss").length;
    expect(Math.abs(lost / rs.length - 0.25), `ratio ${lost / rs.length}`).toBeLessThan(0.01);
    expect(link.counters().packetsLost).toBe(lost);
  });
});

describe("Gilbert-Elliott loss", () => {
  const model = { kind: "gilbert-elliott", pGoodToBad: 0.02, pBadToGood: 0.25 } as const;

  it("Gilbert's case (loss 0 in good, 1 in bad): ratio near p/(p+r), mean burst near 1/r", () => {
    const flags = pattern(makeLossProcess(model, mulberry32(21)), 400_000);
    const ratio = flags.filter(Boolean).length / flags.length;
    const expected = stationaryLossRate(model); // 0.02 / 0.27 = 0.0741
    expect(expected).toBeCloseTo(0.02 / 0.27, 10);
    expect(Math.abs(ratio - expected) / expected, `ratio ${ratio} vs ${expected}`).toBeLessThan(0.05);
    const meanBurst = mean(bursts(flags));
    expect(Math.abs(meanBurst - 4) / 4, `mean burst ${meanBurst} vs 1/r = 4`).toBeLessThan(0.05);
  });

  it("Elliott's case (loss in both states): ratio near the stationary mix", () => {
    const ge = { kind: "gilbert-elliott", pGoodToBad: 0.05, pBadToGood: 0.2, lossInGood: 0.01, lossInBad: 0.6 } as const;
    const flags = pattern(makeLossProcess(ge, mulberry32(5)), 400_000);
    const ratio = flags.filter(Boolean).length / flags.length;
    const expected = stationaryLossRate(ge); // 0.8 * 0.01 + 0.2 * 0.6 = 0.128
    expect(expected).toBeCloseTo(0.128, 10);
    expect(Math.abs(ratio - expected) / expected, `ratio ${ratio} vs ${expected}`).toBeLessThan(0.05);
  });

  it("losses come in bursts: more clustered than Bernoulli at the same ratio", () => {
    const ge = pattern(makeLossProcess(model, mulberry32(8)), 100_000);
    const iid = pattern(makeLossProcess({ kind: "bernoulli", p: stationaryLossRate(model) }, mulberry32(8)), 100_000);
    expect(mean(bursts(ge))).toBeGreaterThan(2 * mean(bursts(iid)));
  });

  it("starts in the good state", () => {
    const g = new GilbertElliott(0, 1, 0, 1, mulberry32(1));
    expect(g.inBadState).toBe(false);
    expect(pattern(() => g.lose(), 100).some(Boolean)).toBe(false);
  });

  it("same seed, same pattern; another seed, another pattern", () => {
    const run = (seed: number) => pattern(makeLossProcess(model, mulberry32(seed)), 5000);
    expect(run(3)).toEqual(run(3));
    expect(run(4)).not.toEqual(run(3));
  });
});
