/**
 * Debian's Chromium driven by playwright-core, with a fake camera that plays a y4m clip (the flags
 * in ../shared/docs/architecture.md). The y4m is made from a synthetic clip, so nothing is
 * downloaded. Used by the e2e tests and bench:browser.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const BASE_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--allow-loopback-in-peer-connection",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // Timers of a page that is not in front would be throttled to 1 Hz and pace no frames.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

export interface LaunchOptions {
  /** y4m clip for the fake camera; absent: Chromium's own fake pattern. */
  readonly y4m?: string;
  /** true: camera allowed without a prompt; false: every permission prompt is refused. */
  readonly allowCamera: boolean;
}

export async function launchChromium(o: LaunchOptions): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's chromium (npm run setup) or set CHROMIUM_PATH`);
  }
  const args = [...BASE_FLAGS, "--use-fake-device-for-media-stream"];
  if (o.allowCamera) args.push("--use-fake-ui-for-media-stream");
  else args.push("--deny-permission-prompts");
  if (o.y4m) args.push(`--use-file-for-fake-video-capture=${o.y4m}`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
}

/** Converts any video ffmpeg reads into the raw y4m that Chromium's fake camera plays (it loops it). */
export async function toY4m(ffmpeg: string, input: string, output: string): Promise<string> {
  await runFfmpeg(ffmpeg, ["-v", "error", "-y", "-i", input, "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", output]);
  return output;
}
