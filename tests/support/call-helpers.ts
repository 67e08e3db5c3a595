/** Helpers shared by the call suites: waiting on conditions and collecting streamed answers. */
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
