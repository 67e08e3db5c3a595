/**
 * What the engine already read from a frame: the detector's boxes and each box's reading, kept for
 * the last few frames it saw, keyed by the frame's pixels. Questions about one frame share the
 * work: DeViBench asks several questions of each encoded clip's frames, and in a call a question,
 * its region map and a second question a moment later may look at the same frame. Reading a box
 * depends only on the pixels and the box, so a cached reading is the reading.
 */
import type { VideoFrame } from "../types.ts";
import type { PixelBox, TextBox, TextLine } from "./geometry.ts";

interface Entry {
  boxes: TextBox[] | null;
  readonly read: Map<string, TextLine>;
}

/**
 * Two 32-bit FNV-1a hashes (different offsets) over the frame's bytes, read as 32-bit words: a
 * 1280x720 frame hashes in a few milliseconds, against a few hundred for reading it.
 */
export function frameKey(f: VideoFrame): string {
  // A frame that does not start on a 4-byte boundary is copied once, so that the same pixels
  // always hash the same way.
  const bytes = f.rgb.byteOffset % 4 === 0 ? f.rgb : f.rgb.slice();
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ bytes.length;
  const n = bytes.length >>> 2;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul(h2 ^ ((w >>> 7) | (w << 25)), 0x5bd1e995);
  }
  for (let i = n * 4; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ bytes[i]!, 0x5bd1e995);
  }
  return `${f.width}x${f.height}:${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
}

export function boxKey(b: PixelBox): string {
  return `${b.x},${b.y},${b.width},${b.height}`;
}

export class ReadCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxFrames = 32) {}

  /** The entry of a frame (made when new; the least recently used frame goes past `maxFrames`). */
  entry(key: string): Entry {
    let e = this.entries.get(key);
    if (e) this.entries.delete(key);
    else e = { boxes: null, read: new Map() };
    this.entries.set(key, e);
    while (this.entries.size > this.maxFrames) this.entries.delete(this.entries.keys().next().value!);
    return e;
  }

  get size(): number {
    return this.entries.size;
  }
}
