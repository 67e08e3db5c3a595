/**
 * The publisher's side of `region-map` (sfu/protocol/datachannel.ts): which map is in force.
 * A map is applied when its version is above every version applied before, it is not already past
 * `validUntilMs`, its weights fit its grid and lie in [0, 1], and its picture has the send size's
 * shape (a map for another shape is almost always a bug; one of the same shape at another size is
 * resampled). A map in force is dropped at `validUntilMs`, back to uniform quality, and a later map
 * must still carry a higher version.
 *
 * `validUntilMs` is on the server's clock; the caller passes its own clock, so skew between the two
 * shortens or lengthens a map's life by the skew (none on one host).
 *
 * Pure: the time comes in as `nowMs`.
 */
import { mapFromWeights, type ImportanceMap } from "../../encoder/importance/map.ts";
import { DEFAULT_MAX_DATA_CHANNEL_BYTES, regionMapBlockCount, type RegionMapMessage } from "../protocol/datachannel.ts";
import { decodeJson } from "../protocol/parse.ts";

export type RegionMapRejectReason = "stale-version" | "expired" | "weights-count" | "weights-range" | "shape-mismatch";

export type RegionMapDecision =
  | { readonly applied: true; readonly version: number; readonly map: ImportanceMap; readonly validUntilMs: number }
  | { readonly applied: false; readonly version: number; readonly reason: RegionMapRejectReason; readonly message: string };

export interface ActiveRegionMap {
  readonly version: number;
  readonly map: ImportanceMap;
  readonly validUntilMs: number;
}

/** Largest difference between the map's and the send size's width/height ratios, relative. */
const MAX_SHAPE_ERROR = 0.02;

export class RegionMapTracker {
  private active: ActiveRegionMap | null = null;
  private highestVersion: number | null = null;

  constructor(
    readonly sendWidth: number,
    readonly sendHeight: number,
  ) {}

  get current(): ActiveRegionMap | null {
    return this.active;
  }

  /** Highest version ever applied (null before the first). */
  get lastVersion(): number | null {
    return this.highestVersion;
  }

  offer(msg: RegionMapMessage, nowMs: number): RegionMapDecision {
    const { version } = msg;
    const reject = (reason: RegionMapRejectReason, message: string): RegionMapDecision => ({ applied: false, version, reason, message });
    if (this.highestVersion !== null && version <= this.highestVersion) {
      return reject("stale-version", `version ${version} is not above the last applied version ${this.highestVersion}`);
    }
    if (!(msg.validUntilMs > nowMs)) {
      return reject("expired", `validUntilMs ${msg.validUntilMs} is not after now (${Math.round(nowMs)})`);
    }
    const expected = regionMapBlockCount(msg.width, msg.height, msg.blockSize);
    if (msg.weights.length !== expected) {
      return reject("weights-count", `${msg.width}x${msg.height} with ${msg.blockSize}px blocks needs ${expected} weights, got ${msg.weights.length}`);
    }
    const bad = msg.weights.findIndex((w) => !(w >= 0 && w <= 1));
    if (bad >= 0) return reject("weights-range", `weight ${bad} is ${msg.weights[bad]}, outside [0, 1]`);
    const ratio = msg.width / msg.height / (this.sendWidth / this.sendHeight);
    if (Math.abs(ratio - 1) > MAX_SHAPE_ERROR) {
      return reject("shape-mismatch", `the map is for ${msg.width}x${msg.height}, which has another shape than the ${this.sendWidth}x${this.sendHeight} video`);
    }
    const map = mapFromWeights(msg.width, msg.height, msg.blockSize, msg.weights);
    this.active = { version, map, validUntilMs: msg.validUntilMs };
    this.highestVersion = version;
    return { applied: true, version, map, validUntilMs: msg.validUntilMs };
  }

  /** Drops the map in force when `nowMs` reached its `validUntilMs`; true when it did. */
  expire(nowMs: number): boolean {
    if (this.active === null || nowMs < this.active.validUntilMs) return false;
    this.active = null;
    return true;
  }
}

/**
 * The version of a message that claims to be a region map but failed the schema, or null: such a
 * map still gets its `region-map-ack`, so the server learns why it was refused.
 */
export function regionMapVersion(raw: string | Uint8Array): number | null {
  const d = decodeJson(raw, DEFAULT_MAX_DATA_CHANNEL_BYTES);
  if (!d.ok || typeof d.msg !== "object" || d.msg === null) return null;
  const { type, version } = d.msg as { type?: unknown; version?: unknown };
  return type === "region-map" && typeof version === "number" && Number.isInteger(version) && version >= 0 ? version : null;
}
