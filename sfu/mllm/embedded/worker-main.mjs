// Entry of the embedded engine's worker thread (see worker-engine.ts): loads the TypeScript
// engine through tsx and answers the main thread's calls; a "cancel" message aborts a call
// (it stops at the engine's next step: before the next model run).
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { EmbeddedOcrEngine } = await import("./engine.ts");
const engine = new EmbeddedOcrEngine(workerData.options);
const running = new Map();

parentPort.on("message", async (m) => {
  if (m.op === "cancel") {
    running.get(m.id)?.abort();
    return;
  }
  const ctl = new AbortController();
  running.set(m.id, ctl);
  try {
    let value;
    if (m.op === "ask") value = await engine.ask({ prompt: m.prompt, question: m.question, frames: m.frames, signal: ctl.signal, account: m.account });
    else if (m.op === "regions") value = await engine.textRegionsForQuestion(m.question, m.frame, ctl.signal);
    else if (m.op === "warmUp") value = await engine.warmUp();
    parentPort.postMessage({ id: m.id, ok: true, value });
  } catch (err) {
    parentPort.postMessage({ id: m.id, ok: false, error: { code: err?.code ?? "MODEL_LOAD_FAILED", message: err?.message ?? String(err) } });
  } finally {
    running.delete(m.id);
  }
});
