/**
 * Entry point of the headless publisher (`publisher --help`): wires the process (arguments,
 * environment, stdin/stdout/stderr, signals, exit code) to HeadlessPublisher. Questions are read
 * from stdin, one per line, and asked one at a time; answers stream to stdout; logs (JSON lines)
 * and one-line stats go to stderr.
 */
import { createInterface } from "node:readline";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { RoiPrefilter } from "../../encoder/prefilter/index.ts";
import type { Logger } from "../signaling/types.ts";
import { parseCliArgs, USAGE, type CliOptions } from "./cli-args.ts";
import { PublisherError } from "./errors.ts";
import { HeadlessPublisher, type PublisherStats } from "./publisher.ts";
import { fetchToken } from "./signaling-client.ts";

const err = (line: string) => process.stderr.write(`${line}\n`);
const logger: Logger = {
  info: (event, fields) => err(JSON.stringify({ level: "info", event, ...fields })),
  warn: (event, fields) => err(JSON.stringify({ level: "warn", event, ...fields })),
  error: (event, fields) => err(JSON.stringify({ level: "error", event, ...fields })),
};

function statsLine(s: PublisherStats): string {
  const rt = s.rateTarget ? `${Math.round(s.rateTarget.maxBitrateBps / 1000)}kbps@${s.rateTarget.maxFramerate}fps` : "none";
  return `stats: sent ${(s.bitrateBps / 1000).toFixed(0)} kbps ${s.framerate.toFixed(1)} fps | cap ${Math.round(s.bitrateCapBps / 1000)} kbps | map v${s.mapVersion ?? "-"} | rate target ${rt} | remb ${s.rembBps === null ? "-" : Math.round(s.rembBps / 1000)} | restarts ${s.encoder.restarts} | dropped ${s.encoder.framesDroppedBusy} busy, ${s.encoder.framesDroppedCongestion} window | fec ${s.fec.negotiated ? `${s.fec.parityPacketsSent} parity, encoder ${Math.round((s.fec.mediaBitrateBps ?? 0) / 1000)} kbps` : "off"}`;
}

async function run(o: CliOptions): Promise<number> {
  const ffmpeg = resolveFfmpeg({ env: process.env }).path;
  const token = "token" in o.auth ? o.auth.token : await fetchToken(o.server, o.auth.room, o.auth.identity);
  const publisher = new HeadlessPublisher({
    serverUrl: o.server,
    token,
    encoder: {
      ffmpeg, input: o.video, loop: o.loop, codec: o.codec, width: o.width, height: o.height, fps: o.fps,
      bitrateBps: o.bitrateBps, route: o.route,
      ...(o.route !== "encoder-roi" ? { prefilter: new RoiPrefilter({ mode: "blur" }) } : {}),
    },
    ...(o.iceHosts.length ? { iceAdditionalHostAddresses: o.iceHosts } : {}),
    questionsVia: o.questionsVia,
    fec: o.fec,
    congestionWindow: o.congestionWindow,
    logger,
  });
  let exitCode = 0;
  const finished = new Promise<void>((resolve) => {
    publisher.events.on("error", ({ error, fatal }) => {
      err(`publisher: ${fatal ? "fatal: " : ""}${error.code}: ${error.message}`);
      if (fatal) (exitCode = 1), resolve();
    });
    publisher.events.on("video-ended", () => resolve());
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
    if (o.durationSec !== null) setTimeout(resolve, o.durationSec * 1000).unref();
  });
  await publisher.start();
  err(`publisher: connected to ${o.server}, sending ${o.video} (${o.codec}, ${o.width}x${o.height}, ${o.bitrateBps / 1000} kbps)`);
  const stats = o.statsIntervalMs > 0 ? setInterval(() => err(statsLine(publisher.stats())), o.statsIntervalMs) : null;
  // One question at a time, so answers do not interleave on stdout.
  let queue = Promise.resolve();
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on("line", (line) => {
    const q = line.trim();
    if (!q) return;
    queue = queue.then(async () => {
      try {
        for await (const chunk of publisher.ask(q)) process.stdout.write(chunk);
        process.stdout.write("\n");
      } catch (e) {
        err(`publisher: question failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  });
  // Keep the process alive until a stop condition (the publisher's own timers are unref'd).
  const keepAlive = setInterval(() => {}, 1 << 30);
  await finished;
  clearInterval(keepAlive);
  if (stats) clearInterval(stats);
  rl.close();
  await publisher.close();
  err(statsLine(publisher.stats()));
  return exitCode;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCliArgs(argv);
  } catch (e) {
    err(`publisher: ${(e as Error).message}\n(see publisher --help)`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await run(parsed.options);
  } catch (e) {
    if (e instanceof PublisherError || (e instanceof Error && "code" in e)) err(`publisher: ${(e as PublisherError).code}: ${e.message}`);
    else err(`publisher: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
