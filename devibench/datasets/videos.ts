/**
 * Finds DeViBench videos on disk. The folder is listed once into an index (one readdir for the
 * folder plus one per `sample_<id>/` sub-folder) so loading 2000 rows costs no per-row file checks.
 *
 * Two layouts are recognised, in this order of preference:
 *   1. StreamingBench: `sample_<id>/video.mp4`, or the only `.mp4` inside `sample_<id>/`;
 *   2. flat: `<id>.mp4`, then `sample_<id>.mp4`.
 */
import { readdirSync, statSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { DatasetError } from "./errors.ts";

export interface VideoIndex {
  readonly dir: string;
  /** Sample id (as a plain number string, "7" for "007") -> absolute or dir-relative video path. */
  readonly byId: ReadonlyMap<string, string>;
  /** `sample_<id>/` folders with no `video.mp4` and several `.mp4` files: which one to use is unclear. */
  readonly ambiguous: readonly string[];
}

/** Canonical form of a sample id, so "007", "7" and "sample_7" meet. Returns null when not a number. */
export function canonicalSampleId(raw: string): string | null {
  const m = /^(?:sample_)?(\d+)$/i.exec(raw.trim());
  if (m === null || m[1] === undefined) return null;
  return String(Number(m[1]));
}

export function buildVideoIndex(dir: string): VideoIndex {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (cause) {
    throw new DatasetError(
      "VIDEOS_DIR_NOT_FOUND",
      `videos folder ${dir} cannot be read; pass the folder holding StreamingBench's sample_<id>/ folders or <id>.mp4 files`,
      { cause },
    );
  }
  const nested = new Map<string, string>();
  const flatPlain = new Map<string, string>();
  const flatPrefixed = new Map<string, string>();
  const ambiguous: string[] = [];

  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (isDirectory(entry, path)) {
      const m = /^sample_(\d+)$/i.exec(entry.name);
      if (m === null || m[1] === undefined) continue;
      const id = String(Number(m[1]));
      const video = videoInFolder(path);
      if (video === "ambiguous") ambiguous.push(path);
      else if (video !== null) nested.set(id, video);
      continue;
    }
    const m = /^(sample_)?(\d+)\.mp4$/i.exec(entry.name);
    if (m === null || m[2] === undefined) continue;
    const id = String(Number(m[2]));
    (m[1] === undefined ? flatPlain : flatPrefixed).set(id, path);
  }

  // Preference order: the StreamingBench folder, then <id>.mp4, then sample_<id>.mp4.
  const byId = new Map<string, string>(flatPrefixed);
  for (const [id, p] of flatPlain) byId.set(id, p);
  for (const [id, p] of nested) byId.set(id, p);
  return { dir, byId, ambiguous };
}

export function findVideo(index: VideoIndex, sampleId: string): string | null {
  const id = canonicalSampleId(sampleId);
  return id === null ? null : (index.byId.get(id) ?? null);
}

function videoInFolder(folder: string): string | "ambiguous" | null {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return null;
  }
  const exact = names.find((n) => n.toLowerCase() === "video.mp4");
  if (exact !== undefined) return join(folder, exact);
  const mp4s = names.filter((n) => n.toLowerCase().endsWith(".mp4"));
  if (mp4s.length === 1 && mp4s[0] !== undefined) return join(folder, mp4s[0]);
  return mp4s.length > 1 ? "ambiguous" : null;
}

function isDirectory(entry: Dirent, path: string): boolean {
  if (entry.isDirectory()) return true;
  // A symlinked folder (common when the videos live on another disk): only these need a stat.
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
