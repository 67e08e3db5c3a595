/**
 * The e2e suites' browser: Chromium with a fake camera (sfu/bench/chromium.ts) and a call server
 * that serves the page.
 */
import { clientRoutes } from "../../client/serve.ts";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { CallServer, type CallServerOptions } from "../../sfu/call/call-server.ts";
import type { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";

export { CHROMIUM_PATH, launchChromium, type LaunchOptions, toY4m } from "../../sfu/bench/chromium.ts";

/**
 * A call server on 127.0.0.1 serving the page built into `dist`, with the embedded engine as the
 * AI peer and its text detector for region maps; `extra` sets the rest (rates, maps, policy).
 */
export async function servePage(engine: WorkerOcrEngine, dist: string, extra: Partial<CallServerOptions> = {}, port = 0): Promise<{ server: CallServer; origin: string }> {
  const server = new CallServer({
    secret: "e2e-test-secret-0123456789abcdef-0123",
    ffmpeg: resolveFfmpeg({ env: process.env }).path,
    model: engine,
    regionFinder: { find: (q, f) => engine.textRegionsForQuestion(q, f) },
    httpRoutes: clientRoutes(dist),
    ...extra,
  });
  const addr = await server.listen(port, "127.0.0.1");
  return { server, origin: `http://127.0.0.1:${addr.port}` };
}
