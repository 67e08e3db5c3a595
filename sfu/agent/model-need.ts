/**
 * The model-need rate cap: the sender needs no more bits than the model needs to read what it is
 * asked about. After Artic's ReCapABR, which caps the rate at the lowest level of a ladder where
 * the model's own readability rating reaches 0.8 (on its 167 DeViBench questions 27.5% reach it
 * at 200 kbps, 71% at 400 kbps: most questions need far less than a fixed 600 kbps).
 *
 * ReCapABR rates every level; a call only sees the level it runs at, one reading per answer (the
 * embedded engine's `readability`: the weakest character probability of the lines it read). So
 * this walks the ladder:
 *  - `stepDownAfter` (2) readings in a row at or above `headroom` (0.9) step down one level: the
 *    text read with margin, twice (each scene of a call is another sign: stepping down on one
 *    reading, bench:whole-call's cap walked down on a large gate number and the next scene's small
 *    opening time failed, and every failure costs the answer a second look at a higher rate);
 *  - a reading under `target` (0.8) steps up one level, and a reading of 0 (too unclear to read,
 *    or no text found) goes to the top at once; the level that read badly is not probed again for
 *    `holdMs` (a miss costs an answer, so the walk does not keep paying for the same lesson);
 *  - between the two it holds;
 *  - `forget()` goes back to the top: vision on demand calls it when the video idles, because the
 *    next look is at whatever the camera shows then, which no reading rated (bench:whole-call,
 *    a new sign every 30 s: keeping the level learned on the last sign, the first look at the next
 *    one failed and looked again at the higher rate, 2-3 s more for that answer; held levels stay
 *    held).
 * Readings that are not a number in [0, 1] are ignored (counted), so a model that reports garbage
 * leaves the cap where it is; with no readings at all the cap stays where it started (the top).
 *
 * Pure: times are passed in; the agent owns one per participant.
 */

export interface ModelNeedOptions {
  /** The ladder, bits per second, any order; levels above the configured rate are dropped. Default 100-600 kbps. */
  readonly levelsBps?: readonly number[];
  /** Readability the cap keeps (ReCapABR's 0.8). */
  readonly target?: number;
  /** A reading at or above this steps down a level. Default 0.9. */
  readonly headroom?: number;
  /** A level that read under the target is not tried again for this long. Default 120 s. */
  readonly holdMs?: number;
  /** Readings in a row at or above the headroom before a step down. Default 2. */
  readonly stepDownAfter?: number;
}

export const DEFAULT_NEED_LEVELS_BPS: readonly number[] = [100_000, 150_000, 200_000, 300_000, 400_000, 600_000];

export class ModelNeedCap {
  private readonly levels: number[];
  private level: number;
  /** Per level, until when it is not probed (it read under the target). */
  private readonly heldUntil: number[];
  private readonly target: number;
  private readonly headroom: number;
  private readonly holdMs: number;
  private readonly stepDownAfter: number;
  /** Readings at or above the headroom in a row, at this level. */
  private goodInARow = 0;
  /** Readings ignored (not a number in [0, 1]). */
  ignored = 0;

  constructor(maxBps: number, o: ModelNeedOptions = {}) {
    if (!(maxBps > 0 && Number.isFinite(maxBps))) throw new RangeError(`model need: maxBps must be a finite number > 0, got ${maxBps}`);
    const target = o.target ?? 0.8;
    const headroom = o.headroom ?? 0.9;
    if (!(target > 0 && target <= 1)) throw new RangeError(`model need: target must be in (0, 1], got ${target}`);
    if (!(headroom >= target && headroom <= 1)) throw new RangeError(`model need: headroom must be in [target, 1], got ${headroom}`);
    const holdMs = o.holdMs ?? 120_000;
    const stepDownAfter = o.stepDownAfter ?? 2;
    if (!(Number.isInteger(stepDownAfter) && stepDownAfter >= 1)) throw new RangeError(`model need: stepDownAfter must be a whole number >= 1, got ${stepDownAfter}`);
    this.stepDownAfter = stepDownAfter;
    if (!(holdMs >= 0 && Number.isFinite(holdMs))) throw new RangeError(`model need: holdMs must be a finite number >= 0, got ${holdMs}`);
    for (const l of o.levelsBps ?? []) if (!(l > 0 && Number.isFinite(l))) throw new RangeError(`model need: every level must be a finite number > 0, got ${l}`);
    const below = [...new Set(o.levelsBps ?? DEFAULT_NEED_LEVELS_BPS)].filter((l) => l < maxBps).sort((a, b) => a - b);
    this.levels = [...below, maxBps];
    this.level = this.levels.length - 1;
    this.heldUntil = this.levels.map(() => -Infinity);
    this.target = target;
    this.headroom = headroom;
    this.holdMs = holdMs;
  }

  /** The cap now, bits per second. */
  get bitrateBps(): number {
    return this.levels[this.level]!;
  }

  /** The ladder in use, lowest first. */
  get ladderBps(): readonly number[] {
    return this.levels;
  }

  /** Back to the top of the ladder, with no good readings counted; returns whether the cap moved. */
  forget(): boolean {
    const before = this.level;
    this.level = this.levels.length - 1;
    this.goodInARow = 0;
    return this.level !== before;
  }

  /** A readability reading from an answer given at the current cap; returns whether the cap moved. */
  onReading(readability: number | undefined, nowMs: number): boolean {
    if (readability === undefined) return false;
    if (!(readability >= 0 && readability <= 1) || !Number.isFinite(nowMs)) {
      this.ignored++;
      return false;
    }
    const before = this.level;
    const top = this.levels.length - 1;
    if (readability < this.target) {
      this.heldUntil[this.level] = nowMs + this.holdMs;
      this.level = readability === 0 ? top : Math.min(top, this.level + 1);
    } else if (readability >= this.headroom) {
      this.goodInARow++;
      if (this.goodInARow >= this.stepDownAfter && this.level > 0 && !(this.heldUntil[this.level - 1]! > nowMs)) this.level--;
    } else {
      this.goodInARow = 0;
    }
    if (this.level !== before) this.goodInARow = 0;
    return this.level !== before;
  }
}
