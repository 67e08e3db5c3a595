/**
 * Finds the ffmpeg binary, in one order used everywhere in the project:
 *   1. `FFMPEG_PATH` (the caller passes the environment; library code never reads it itself),
 *   2. the binary of the optional `ffmpeg-static` package, when its install step could download it,
 *   3. `ffmpeg` on PATH (Debian's ffmpeg 5.1 has libx264, libvpx, addroi, drawtext and psnr).
 */
import { accessSync, constants, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { EncoderError } from "../errors.ts";

export interface ResolvedFfmpeg {
  readonly path: string;
  readonly source: "FFMPEG_PATH" | "ffmpeg-static" | "PATH";
}

export interface ResolveOptions {
  /** Environment to read FFMPEG_PATH and PATH from. Entry points pass `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where `ffmpeg-static` lives; tests point it elsewhere. Default: this project's dependency. */
  readonly staticBinary?: () => string | null;
}

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function ffmpegStaticBinary(): string | null {
  try {
    // ffmpeg-static exports the path of the binary it downloaded at install time (or null).
    const require = createRequire(import.meta.url);
    const p: unknown = require("ffmpeg-static");
    return typeof p === "string" ? p : null;
  } catch {
    return null;
  }
}

export function resolveFfmpeg(options: ResolveOptions): ResolvedFfmpeg {
  const fromEnv = options.env.FFMPEG_PATH;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!isExecutableFile(fromEnv)) {
      throw new EncoderError(
        "FFMPEG_NOT_FOUND",
        `FFMPEG_PATH is set to "${fromEnv}", which is not an executable file. Point it at an ffmpeg binary or unset it.`,
      );
    }
    return { path: fromEnv, source: "FFMPEG_PATH" };
  }
  const fromPackage = (options.staticBinary ?? ffmpegStaticBinary)();
  if (fromPackage && isExecutableFile(fromPackage)) return { path: fromPackage, source: "ffmpeg-static" };
  for (const dir of (options.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "ffmpeg");
    if (isExecutableFile(candidate)) return { path: candidate, source: "PATH" };
  }
  throw new EncoderError(
    "FFMPEG_NOT_FOUND",
    "ffmpeg was not found. Install it (Debian/Ubuntu: `apt-get install ffmpeg`; macOS: `brew install ffmpeg`), " +
      "or set FFMPEG_PATH to an ffmpeg binary, or let npm install the optional `ffmpeg-static` package " +
      "(its install step downloads a binary, so it needs internet access).",
  );
}
