/**
 * The publisher's command line, parsed into typed options at the edge: every bad flag is an
 * INVALID_OPTION error that names it. No process access: the entry point (cli.ts) passes argv.
 */
import { parseArgs } from "node:util";
import type { Codec } from "../../encoder/ffmpeg/filtergraph.ts";
import type { ContextRoute } from "../../encoder/ladder/ladder.ts";
import { PublisherError } from "./errors.ts";

export const USAGE = `Usage: publisher --server ws://HOST:PORT/ws (--token TOKEN | --room ROOM --identity NAME) --video FILE [options]

Joins a call from a video file (instead of a camera) and applies the server's region maps and rate
targets. Type a question and press Enter: the answer streams to stdout. Stats go to stderr.

  --server URL            signalling WebSocket of the call server (required)
  --token TOKEN           room token; or get one from POST /api/token on the same host with:
  --room ROOM             room to join
  --identity NAME         name in the room
  --video FILE            video file to send (required)
  --codec h264|vp8        default h264
  --bitrate-kbps N        bitrate cap, default 300 (rate targets can only lower it)
  --fps N                 frame rate decoded from the file, default 30
  --size WxH              send size, default 640x360
  --loop                  start the file again at its end (default: stop at the end)
  --route R               how region maps apply: encoder-roi (default for h264), prefilter (default for vp8), both
  --ice-host ADDR         extra ICE host address (e.g. 127.0.0.1 for loopback), repeatable
  --questions-via V       datachannel (default) or signaling
  --no-fec                do not offer the per-frame FEC parity stream (a server that predates it
                          refuses it, and the publisher then joins again without it by itself)
  --no-congestion-window  send every captured frame even while the server's transport feedback
                          shows the link holding a window's worth (default: hold frames back)
  --stats-interval-ms N   one stats line every N ms on stderr, default 2000, 0 = none
  --duration-sec N        leave after N seconds (default: run until Ctrl-C)
  --help                  this text`;

export interface CliOptions {
  readonly server: string;
  readonly auth: { readonly token: string } | { readonly room: string; readonly identity: string };
  readonly video: string;
  readonly codec: Codec;
  readonly bitrateBps: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly loop: boolean;
  readonly route: ContextRoute;
  readonly iceHosts: string[];
  readonly questionsVia: "datachannel" | "signaling";
  readonly fec: boolean;
  readonly congestionWindow: boolean;
  readonly statsIntervalMs: number;
  readonly durationSec: number | null;
}

export type CliParse = { readonly help: true } | { readonly help: false; readonly options: CliOptions };

function bad(flag: string, message: string): PublisherError {
  return new PublisherError("INVALID_OPTION", `--${flag}: ${message}`);
}

function num(flag: string, v: string | undefined, fallback: number, ok: (n: number) => boolean, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === "" || !ok(n)) throw bad(flag, `must be ${what}, got ${JSON.stringify(v)}`);
  return n;
}

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw bad(flag, `must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function parseCliArgs(argv: readonly string[]): CliParse {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: "string" }, token: { type: "string" }, room: { type: "string" }, identity: { type: "string" },
        video: { type: "string" }, codec: { type: "string" }, "bitrate-kbps": { type: "string" }, fps: { type: "string" },
        size: { type: "string" }, loop: { type: "boolean" }, route: { type: "string" }, "ice-host": { type: "string", multiple: true },
        "questions-via": { type: "string" }, "stats-interval-ms": { type: "string" }, "duration-sec": { type: "string" }, "no-fec": { type: "boolean" }, "no-congestion-window": { type: "boolean" }, help: { type: "boolean" },
      },
    }));
  } catch (err) {
    throw new PublisherError("INVALID_OPTION", err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (values.help) return { help: true };
  const str = (k: string) => values[k] as string | undefined;
  const server = str("server");
  if (!server) throw bad("server", "is required (ws://HOST:PORT/ws)");
  if (!/^wss?:\/\//.test(server)) throw bad("server", `must start with ws:// or wss://, got ${JSON.stringify(server)}`);
  const video = str("video");
  if (!video) throw bad("video", "is required");
  const token = str("token");
  const room = str("room");
  const identity = str("identity");
  if (token !== undefined && (room !== undefined || identity !== undefined)) throw bad("token", "give either --token or --room with --identity, not both");
  if (token === undefined && (room === undefined || identity === undefined)) throw bad(room === undefined ? "room" : "identity", "is required without --token");
  const size = str("size") ?? "640x360";
  const m = /^(\d+)x(\d+)$/.exec(size);
  const [width, height] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(width >= 16 && height >= 16 && width % 2 === 0 && height % 2 === 0)) throw bad("size", `must be WxH with even sides of at least 16, got ${JSON.stringify(size)}`);
  const duration = str("duration-sec");
  return {
    help: false,
    options: {
      server,
      auth: token !== undefined ? { token } : { room: room!, identity: identity! },
      video,
      codec: oneOf("codec", str("codec"), ["h264", "vp8"] as const, "h264"),
      bitrateBps: 1000 * num("bitrate-kbps", str("bitrate-kbps"), 300, (n) => n >= 10 && n <= 50_000, "a number of kbps from 10 to 50000"),
      fps: num("fps", str("fps"), 30, (n) => n > 0 && n <= 120, "a frame rate in (0, 120]"),
      width,
      height,
      loop: values.loop === true,
      route: oneOf("route", str("route"), ["encoder-roi", "prefilter", "both"] as const, str("codec") === "vp8" ? "prefilter" : "encoder-roi"),
      iceHosts: (values["ice-host"] as string[] | undefined) ?? [],
      questionsVia: oneOf("questions-via", str("questions-via"), ["datachannel", "signaling"] as const, "datachannel"),
      fec: values["no-fec"] !== true,
      congestionWindow: values["no-congestion-window"] !== true,
      statsIntervalMs: num("stats-interval-ms", str("stats-interval-ms"), 2000, (n) => Number.isInteger(n) && n >= 0, "an integer >= 0"),
      durationSec: duration === undefined ? null : num("duration-sec", duration, 0, (n) => n > 0, "a number of seconds > 0"),
    },
  };
}
