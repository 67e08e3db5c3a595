/**
 * Bitrate ladders. The DeViBench rungs are the ones the Artic paper evaluates (DeViBench: 800 kbps
 * at 1920x1080 down to 200 kbps at 1024x576); the two lower rungs are where thin cellular uplinks
 * spend much of their time.
 */
import { EncoderError } from "../errors.ts";

export interface Rung {
  readonly targetKbps: number;
  readonly width: number;
  readonly height: number;
}

export const DEVIBENCH_RUNGS: readonly Rung[] = [
  { targetKbps: 800, width: 1920, height: 1080 },
  { targetKbps: 600, width: 1600, height: 900 },
  { targetKbps: 400, width: 1280, height: 720 },
  { targetKbps: 200, width: 1024, height: 576 },
];

export const LOW_RUNGS: readonly Rung[] = [
  { targetKbps: 100, width: 768, height: 432 },
  { targetKbps: 50, width: 640, height: 360 },
];

export const DEFAULT_LADDER: readonly Rung[] = [...DEVIBENCH_RUNGS, ...LOW_RUNGS];

/** Looks rungs up by target kbps ("800,200,50"); unknown values are an error naming them. */
export function rungsByKbps(list: readonly number[], ladder: readonly Rung[] = DEFAULT_LADDER): Rung[] {
  return list.map((k) => {
    const r = ladder.find((x) => x.targetKbps === k);
    if (!r) {
      throw new EncoderError("INVALID_BITRATE", `no rung at ${k} kbps; the ladder has ${ladder.map((x) => x.targetKbps).join(", ")} kbps`);
    }
    return r;
  });
}
