/**
 * The context engine: from the question a user asks (and the frames the server has) to the
 * importance map the publisher should apply. Regions come from a `RegionFinder` port: the
 * embedded text detector matched against the question's words by default, or an MLLM's
 * grounding. Each map carries a version (increasing) and a valid-until time, so a publisher never
 * keeps applying a map the server has stopped refreshing (Artic: the map follows the chat).
 *
 * Pure apart from the injected finder; the clock is a parameter.
 */
import { mapFromRegions, type ImportanceMap, type Region } from "../../encoder/importance/map.ts";
import type { NormalizedBox, VideoFrame } from "../mllm/types.ts";

export interface RegionFinder {
  /** Boxes relevant to the question, best first; `matched` when the question's words were found. */
  find(question: string, frame: VideoFrame): Promise<{ boxes: NormalizedBox[]; matched: boolean }>;
}

export interface ContextEngineOptions {
  /** Grid of the maps sent to publishers (Artic: 64 px blocks). */
  readonly blockSize?: number;
  /** How long a map stays valid after the last question that produced it. Default 30 s. */
  readonly validForMs?: number;
  /** Boxes used when grounding picked the block the question means; default 1 (that block). */
  readonly maxMatchedBoxes?: number;
  /** Boxes used when nothing matched (all text is a candidate); default 6. */
  readonly maxUnmatchedBoxes?: number;
  /** Margin added around each box, as a fraction of the picture's longer side (motion, late maps). Default 0.02. */
  readonly marginFraction?: number;
}

export interface ContextMap {
  readonly version: number;
  readonly validUntilMs: number;
  readonly map: ImportanceMap;
  readonly regions: readonly Region[];
  readonly matched: boolean;
}

/**
 * The boxes a region map covers: the block grounding picked (`matched`), else every candidate up
 * to `maxUnmatched` (a tie, or text that fits no clue: any of it may be what is meant). Shared by
 * the call's context engine and DeViBench's detector region source, so both put the bits on the
 * same text.
 */
export function boxesForMap(
  found: { readonly boxes: readonly NormalizedBox[]; readonly matched: boolean },
  maxMatched = 1,
  maxUnmatched = 6,
): NormalizedBox[] {
  return found.boxes.slice(0, found.matched ? maxMatched : maxUnmatched);
}

export class ContextEngine {
  private version = 0;
  private readonly o: Required<ContextEngineOptions>;

  constructor(private readonly finder: RegionFinder, options: ContextEngineOptions = {}) {
    this.o = {
      blockSize: options.blockSize ?? 64,
      validForMs: options.validForMs ?? 30_000,
      maxMatchedBoxes: options.maxMatchedBoxes ?? 1,
      maxUnmatchedBoxes: options.maxUnmatchedBoxes ?? 6,
      marginFraction: options.marginFraction ?? 0.02,
    };
  }

  /** A new map for the question, or null when the frame has no region worth favouring. */
  async mapFor(question: string, frame: VideoFrame, nowMs: number): Promise<ContextMap | null> {
    const found = await this.finder.find(question, frame);
    return this.mapForBoxes(boxesForMap(found, this.o.maxMatchedBoxes, this.o.maxUnmatchedBoxes), found.matched, frame, nowMs);
  }

  /**
   * A new map over boxes already found (the model's answer said where it read: no second look).
   * `matched` says whether they are the region the question means or only candidates.
   */
  mapForBoxes(chosen: readonly NormalizedBox[], matched: boolean, frame: { readonly width: number; readonly height: number }, nowMs: number): ContextMap | null {
    if (chosen.length === 0) return null;
    const m = this.o.marginFraction * Math.max(frame.width, frame.height);
    const regions: Region[] = chosen.map((b) => {
      const x = Math.max(0, b.x * frame.width - m);
      const y = Math.max(0, b.y * frame.height - m);
      return {
        x, y,
        width: Math.min(frame.width, b.x * frame.width + b.width * frame.width + m) - x,
        height: Math.min(frame.height, b.y * frame.height + b.height * frame.height + m) - y,
      };
    }).filter((r) => r.width > 0 && r.height > 0);
    if (regions.length === 0) return null;
    return {
      version: ++this.version,
      validUntilMs: nowMs + this.o.validForMs,
      map: mapFromRegions(frame.width, frame.height, this.o.blockSize, regions),
      regions,
      matched,
    };
  }
}
