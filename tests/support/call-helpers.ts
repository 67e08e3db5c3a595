/** Helpers shared by the call suites: waiting on conditions, collecting streamed answers, a lossy uplink. */
import { mulberry32 } from "../../encoder/synth/prng.ts";
import type { HeadlessPublisher } from "../../sfu/publisher/publisher.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 100 ms; fails after `ms` with what it waited for (and `detail()` if given). */
export async function waitFor(cond: () => boolean, ms: number, what: string, detail?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail ? `: ${detail()}` : ""}`);
    await sleep(100);
  }
}

/** Asks through the publisher and joins the answer's chunks. */
export async function answer(p: HeadlessPublisher, q: string): Promise<string> {
  let text = "";
  for await (const chunk of p.ask(q)) text += chunk;
  return text;
}

/** What the lossy link did to one frame (one RTP timestamp of one SSRC) since `countFrames()`. */
export interface LinkFrame {
  packets: number;
  dropped: number;
}

/**
 * Drops RTP (media and FEC parity alike: one bundled transport) after werift's sender cached it:
 * `lossRate` at random (seeded), everything while `blackout` is on; delays the rest by `delayMs`
 * (timers of one delay fire in order). After `countFrames()` it also records, per frame, how many
 * packets it carried and dropped (`frames`), so a test can tell which frames reached the receiver
 * whole; a frame already under way when counting starts is left out.
 */
export function lossyLink(p: HeadlessPublisher, lossRate: number, seed: number, delayMs: number) {
  const transport = p.videoSender!.dtlsTransport;
  const send = transport.sendRtp.bind(transport);
  const rand = mulberry32(seed);
  const seen = new Set<string>();
  let counting = false;
  const link = {
    on: false, blackout: false, sent: 0, dropped: 0,
    frames: new Map<string, LinkFrame>(),
    /** Starts a new per-frame record; frames whose packets went out before this are not in it. */
    countFrames() {
      link.frames.clear();
      counting = true;
    },
    /** Stops adding frames (packets of frames already recorded are still counted). */
    stopCountingNewFrames() {
      counting = false;
    },
    /** Frames recorded whose every packet went through. */
    get wholeFrames(): number {
      return [...link.frames.values()].filter((f) => f.dropped === 0).length;
    },
  };
  transport.sendRtp = (payload, header) => {
    const key = `${header.ssrc}:${header.timestamp}`;
    const firstPacket = !seen.has(key);
    seen.add(key);
    if (seen.size > 4096) seen.delete(seen.values().next().value!);
    let frame = link.frames.get(key);
    if (!frame && counting && firstPacket) link.frames.set(key, (frame = { packets: 0, dropped: 0 }));
    if (frame) frame.packets++;
    if (link.on && (link.blackout || rand() < lossRate)) {
      link.dropped++;
      if (frame) frame.dropped++;
      return Promise.resolve(0);
    }
    link.sent++;
    return new Promise((resolve) => setTimeout(() => resolve(send(payload, header)), delayMs));
  };
  return link;
}
