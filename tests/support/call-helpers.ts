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

/**
 * Drops RTP (media and FEC parity alike: one bundled transport) after werift's sender cached it:
 * `lossRate` at random (seeded), everything while `blackout` is on; delays the rest by `delayMs`
 * (timers of one delay fire in order).
 */
export function lossyLink(p: HeadlessPublisher, lossRate: number, seed: number, delayMs: number) {
  const transport = p.videoSender!.dtlsTransport;
  const send = transport.sendRtp.bind(transport);
  const rand = mulberry32(seed);
  const link = { on: false, blackout: false, sent: 0, dropped: 0 };
  transport.sendRtp = (payload, header) => {
    if (link.on && (link.blackout || rand() < lossRate)) {
      link.dropped++;
      return Promise.resolve(0);
    }
    link.sent++;
    return new Promise((resolve) => setTimeout(() => resolve(send(payload, header)), delayMs));
  };
  return link;
}
