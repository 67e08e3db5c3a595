import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDevibench } from "./devibench.ts";
import { DatasetError } from "./errors.ts";
import { buildVideoIndex, canonicalSampleId, findVideo } from "./videos.ts";

const tmp = mkdtempSync(join(tmpdir(), "devibench-videos-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function touch(...parts: string[]): string {
  const path = join(tmp, ...parts);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "");
  return path;
}

describe("video finder", () => {
  it("finds StreamingBench folders (video.mp4 or the only .mp4) and flat files", () => {
    const dir = "mixed";
    const nested = touch(dir, "sample_1", "video.mp4");
    touch(dir, "sample_1", "preview.mp4"); // video.mp4 wins over other files
    const only = touch(dir, "sample_2", "clip_2.MP4");
    touch(dir, "sample_3", "a.mp4");
    touch(dir, "sample_3", "b.mp4"); // two candidates and no video.mp4: ambiguous
    mkdirSync(join(tmp, dir, "sample_4")); // empty folder
    const plain = touch(dir, "5.mp4");
    const prefixed = touch(dir, "sample_6.mp4");
    touch(dir, "7.mkv"); // not an mp4
    touch(dir, "notes.txt");
    const both = touch(dir, "sample_8", "video.mp4");
    touch(dir, "8.mp4"); // the folder layout is preferred

    const index = buildVideoIndex(join(tmp, dir));
    expect(findVideo(index, "1")).toBe(nested);
    expect(findVideo(index, "2")).toBe(only);
    expect(findVideo(index, "3")).toBeNull();
    expect(index.ambiguous).toEqual([join(tmp, dir, "sample_3")]);
    expect(findVideo(index, "4")).toBeNull();
    expect(findVideo(index, "5")).toBe(plain);
    expect(findVideo(index, "sample_6")).toBe(prefixed);
    expect(findVideo(index, "7")).toBeNull();
    expect(findVideo(index, "8")).toBe(both);
    expect(findVideo(index, "not-a-number")).toBeNull();
  });

  it("matches ids with leading zeros", () => {
    expect(canonicalSampleId("007")).toBe("7");
    expect(canonicalSampleId("sample_07")).toBe("7");
    expect(canonicalSampleId("x7")).toBeNull();
    const file = touch("zeros", "sample_007", "video.mp4");
    expect(findVideo(buildVideoIndex(join(tmp, "zeros")), "7")).toBe(file);
  });

  it("a missing folder is a typed error", () => {
    expect(() => buildVideoIndex(join(tmp, "absent"))).toThrow(DatasetError);
  });

  it("the loader fills videoPath and counts samples without a video", () => {
    const v2 = touch("flat", "1.mp4");
    const v1 = touch("streamingbench", "sample_2", "video.mp4");
    const csv = join(tmp, "small.csv");
    writeFileSync(
      csv,
      "sample_id,start_time,question,std_answer,Frame,task_type\n" +
        "1,10,Q?,a,Single,Counting\n2,10,Q?,b,Single,Counting\n3,10,Q?,c,Single,Counting\n",
    );
    const flat = loadDevibench(csv, { version: "v2", videosDir: join(tmp, "flat") });
    expect(flat.samples.map((s) => s.videoPath)).toEqual([v2, null, null]);
    expect(flat.missingVideos).toBe(2);
    const sb = loadDevibench(csv, { version: "v2", videosDir: join(tmp, "streamingbench") });
    expect(sb.samples.map((s) => s.videoPath)).toEqual([null, v1, null]);
    expect(sb.missingVideos).toBe(2);
  });
});
