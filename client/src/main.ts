/**
 * The page: join form -> camera -> call; chat, live stats, region-map overlay, leave. Every
 * control is a native form element or button, so it works by keyboard (Tab, Enter, Space) and
 * screen readers get the labels; status and answers are live regions.
 *
 * `window.aiCall` exposes the call's figures and a few actions for automation (the end-to-end
 * test reads the same `getStats` figures the stats panel shows).
 */
import { AI_STATE_TEXT, aiState, type AiStateKey } from "./ai-state.ts";
import type { AgentState, AnswerFrameMessage } from "../../sfu/protocol/messages.ts";
import { Call, DEGRADATIONS, type CallSnapshot, type Degradation } from "./call.ts";
import { drawOverlay } from "./overlay.ts";
import { cameraErrorMessage, idFieldMessage } from "./errors.ts";
import { formatBitrate, limitationText, median } from "./stats.ts";

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};

const ui = {
  status: $("status"),
  problem: $("problem"),
  joinPanel: $("join-panel"),
  joinForm: $<HTMLFormElement>("join-form"),
  room: $<HTMLInputElement>("room"),
  name: $<HTMLInputElement>("name"),
  join: $<HTMLButtonElement>("join"),
  callPanel: $("call-panel"),
  preview: $<HTMLVideoElement>("preview"),
  overlay: $<HTMLCanvasElement>("overlay"),
  mapLabel: $("map-label"),
  messages: $("messages"),
  aiState: $("ai-state"),
  stats: $<HTMLDetailsElement>("stats"),
  askForm: $<HTMLFormElement>("ask-form"),
  question: $<HTMLInputElement>("question"),
  ask: $<HTMLButtonElement>("ask"),
  leave: $<HTMLButtonElement>("leave"),
  rejoin: $<HTMLButtonElement>("rejoin"),
  source: $<HTMLSelectElement>("source"),
  stat: {
    bitrate: $("stat-bitrate"), target: $("stat-target"), fps: $("stat-fps"), size: $("stat-size"),
    loss: $("stat-loss"), rtt: $("stat-rtt"), answer: $("stat-answer"),
  },
};

const NO_MAP_TEXT = "The whole picture is sent at the same quality.";

let call: Call | null = null;
let camera: MediaStream | null = null;
let statsTimer: ReturnType<typeof setInterval> | null = null;
/** Each question's answer item (made when it is asked, right after it) and whether words came. */
const answerItems = new Map<string, { li: HTMLElement; started: boolean; final: boolean }>();
let lastRefused = false;
/** What the server's AI peer last said it does. */
let serverState: AgentState | undefined;
/** The AI states shown, in order (for automation: a state can last less than a test's poll). */
const aiStates: AiStateKey[] = [];

if (!ui.name.value) ui.name.value = `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
const params = new URLSearchParams(location.search);
if (params.get("room")) ui.room.value = params.get("room")!;
if (params.get("name")) ui.name.value = params.get("name")!;

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function showProblem(text: string | null): void {
  ui.problem.hidden = text === null;
  ui.problem.textContent = text ?? "";
}

/** An answer is complete (or will not come): no longer busy, no progress word, marked when it is no answer. */
function closeAnswer(item: { li: HTMLElement; final: boolean }, unanswered: boolean): void {
  item.final = true;
  item.li.removeAttribute("aria-busy");
  item.li.querySelector(".state")?.remove();
  if (unanswered) item.li.classList.add("refused");
}

/** Shows an AI state (and records it for automation) unless it is already shown. */
function showAiState(key: AiStateKey, text = AI_STATE_TEXT[key]): void {
  if (ui.aiState.dataset.state === key && ui.aiState.textContent === text) return;
  ui.aiState.dataset.state = key;
  ui.aiState.textContent = text;
  aiStates.push(key);
}

function renderAiState(): void {
  const s = call?.snapshot() ?? null;
  const open = [...answerItems.values()].filter((a) => !a.final);
  const key = aiState({
    connected: s?.connectionState === "connected",
    videoFlowing: (s?.uplink?.bitrateBps ?? 0) > 0,
    open,
    lastRefused,
    ...(serverState !== undefined ? { server: serverState } : {}),
  });
  showAiState(key);
}

/** Shows the question, and right after it the place its answer will fill. */
function askQuestion(text: string): string | null {
  if (!call) return null;
  const id = call.ask(text);
  addMessage("me", text).dataset.questionId = id;
  const li = addMessage("ai", "");
  li.dataset.questionId = id;
  li.setAttribute("aria-busy", "true");
  const state = document.createElement("span");
  state.className = "state";
  state.textContent = "looking…";
  li.append(state);
  answerItems.set(id, { li, started: false, final: false });
  renderAiState();
  return id;
}

function addMessage(who: "me" | "ai", text: string): HTMLElement {
  const li = document.createElement("li");
  li.className = who;
  const label = document.createElement("span");
  label.className = "who";
  label.textContent = who === "me" ? "You:" : "AI:";
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  li.append(label, body);
  ui.messages.append(li);
  li.scrollIntoView({ block: "nearest" });
  return li;
}

async function startCamera(): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw Object.assign(new Error("no getUserMedia"), { name: "TypeError" });
  }
  return navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } }, audio: false });
}

/** The browser's own message for a pattern is "Please match the requested format.": say what the field needs. */
function checkIdField(input: HTMLInputElement, label: string): void {
  input.setCustomValidity("");
  input.setCustomValidity(idFieldMessage(label, input.validity, input.value));
}

/** Joins the room in the form with the camera already playing; the call's events drive the page. */
function connect(): Promise<Call> {
  return Call.join({
    origin: location.origin,
    room: ui.room.value,
    name: ui.name.value,
    video: ui.preview,
    ...(DEGRADATIONS.includes(params.get("degradation") as Degradation) ? { degradation: params.get("degradation") as Degradation } : {}),
    ...(/^L1T[23]$/.test(params.get("layers") ?? "") ? { scalabilityMode: params.get("layers")! } : {}),
    events: {
      // After a reconnect the "in the call" line says so, so nobody wonders where the call went.
      status: (text) => setStatus(rejoined && text.startsWith("In the call") ? "Reconnected: in the call again; the conversation above is kept." : text),
      problem: (text, fatal) => {
        showProblem(text);
        if (fatal) lostCall(text);
      },
      answer: ({ id, text, final, refused }) => {
        let item = answerItems.get(id);
        if (!item) {
          // An answer to a question this page did not ask (none today): shown at the end.
          item = { li: addMessage("ai", ""), started: false, final: false };
          item.li.setAttribute("aria-busy", "true");
          answerItems.set(id, item);
        }
        item.started = true;
        item.li.querySelector(".text")!.textContent += text;
        if (final) {
          closeAnswer(item, refused);
          lastRefused = refused;
          call?.requestAnswerFrame(id);
          renderStats();
        } else {
          const state = item.li.querySelector(".state");
          if (state) state.textContent = "answering…";
        }
        renderAiState();
      },
      regionMap: (map, version) => {
        drawOverlay(ui.overlay, map);
        ui.mapLabel.textContent = map
          ? `The AI is reading the outlined part: it is sent sharp, the rest softer to save bits (region map ${version}).`
          : NO_MAP_TEXT;
      },
      rateTarget: () => renderStats(),
      answerFrame: (id, f) => showAnswerFrame(id, f),
      agentState: (state) => {
        serverState = state;
        renderAiState();
      },
    },
  });
}

/**
 * Under an answer, the frame the AI read it from: the picture (with the region it read outlined,
 * when the model said where), how old the frame was when it answered, the size it was decoded at
 * and the bitrate the server was getting.
 */
function showAnswerFrame(id: string, f: AnswerFrameMessage | null): void {
  const item = answerItems.get(id);
  if (!item) return;
  const fig = document.createElement("figure");
  fig.className = "answer-frame";
  const caption = document.createElement("figcaption");
  if (f === null) {
    caption.textContent = "The frame it used is no longer kept.";
    fig.append(caption);
  } else {
    const img = document.createElement("img");
    img.src = `data:image/jpeg;base64,${f.jpegBase64}`;
    img.width = f.width;
    img.height = f.height;
    const what = `${f.frameWidth}×${f.frameHeight}, ${(f.ageMs / 1000).toFixed(1)} s old when answered${f.receivedBitrateBps !== null ? `, received at ${formatBitrate(f.receivedBitrateBps)}` : ""}`;
    img.alt = `The frame the AI read this answer from (${what})${f.box ? ", the part it read outlined" : ""}.`;
    caption.textContent = `What the AI saw: ${what}${f.box ? "; outlined: where it read" : ""}.`;
    fig.append(img, caption);
  }
  item.li.append(fig);
}

async function onJoin(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  checkIdField(ui.room, "Room");
  checkIdField(ui.name, "Your name");
  if (!ui.joinForm.reportValidity()) return;
  showProblem(null);
  ui.join.disabled = true;
  try {
    setStatus("Starting the camera…");
    try {
      camera = await startCamera();
    } catch (err) {
      throw new Error(cameraErrorMessage(err));
    }
    ui.preview.srcObject = camera;
    await new Promise<void>((resolve) => {
      if (ui.preview.readyState >= 1 && ui.preview.videoWidth > 0) return resolve();
      ui.preview.addEventListener("loadedmetadata", () => resolve(), { once: true });
    });
    await ui.preview.play().catch(() => {});
    setStatus("Getting a join token…");
    call = await connect();
    ui.joinPanel.hidden = true;
    ui.callPanel.hidden = false;
    // On a phone the stats start folded: the picture and the chat come first.
    if (window.matchMedia("(max-width: 720px)").matches) ui.stats.open = false;
    await fillSources();
    renderAiState();
    ui.question.focus();
    statsTimer = setInterval(renderStats, 1000);
  } catch (err) {
    showProblem(err instanceof Error ? err.message : String(err));
    setStatus("Not in a call.");
    stopCamera();
  } finally {
    ui.join.disabled = false;
  }
}

function renderStats(): void {
  if (!call) return;
  const s: CallSnapshot = call.snapshot();
  ui.stat.bitrate.textContent = formatBitrate(s.uplink?.bitrateBps ?? null);
  ui.stat.target.textContent = s.target ? `${formatBitrate(s.target.maxBitrateBps)}, ${s.target.maxFramerate} fps` : "—";
  ui.stat.fps.textContent = s.uplink ? `${s.uplink.framerate.toFixed(1)} fps` : "—";
  const limit = limitationText(s.qualityLimitation, s.availableOutgoingBps, s.target?.maxBitrateBps ?? null);
  ui.stat.size.textContent = s.frameWidth && s.frameHeight ? `${s.frameWidth}×${s.frameHeight}${limit ? ` (${limit})` : ""}` : "—";
  ui.stat.loss.textContent = s.uplink?.lossRatio != null ? `${(s.uplink.lossRatio * 100).toFixed(1)}%` : "—";
  ui.stat.rtt.textContent = s.rttMs !== null ? `${Math.round(s.rttMs)} ms` : "—";
  const m = median(s.answerLatenciesMs);
  ui.stat.answer.textContent = m === null ? "—" : `${Math.round(m)} ms median (${s.answerLatenciesMs.length} answer${s.answerLatenciesMs.length === 1 ? "" : "s"})`;
  renderAiState();
}

function onAsk(ev: SubmitEvent): void {
  ev.preventDefault();
  const text = ui.question.value.trim();
  if (!call || !text) return;
  askQuestion(text);
  ui.question.value = "";
}

function stopCamera(): void {
  camera?.getTracks().forEach((t) => t.stop());
  camera = null;
  ui.preview.srcObject = null;
}

/**
 * The cameras this browser has, for the source picker (labels are known once the camera was
 * allowed; front and rear cameras on a phone are two entries), then "My screen" where the browser
 * can share one.
 */
async function fillSources(): Promise<void> {
  const current = camera?.getVideoTracks()[0]?.getSettings().deviceId ?? "";
  let cams: MediaDeviceInfo[] = [];
  try {
    cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  } catch {
    // No list: the one camera in use stays the only choice.
  }
  ui.source.replaceChildren();
  const add = (value: string, label: string) => {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    ui.source.append(o);
  };
  if (cams.length === 0) add(`camera:${current}`, "Camera");
  cams.forEach((c, i) => add(`camera:${c.deviceId}`, c.label ? `Camera: ${c.label}` : `Camera ${i + 1}`));
  if (typeof navigator.mediaDevices.getDisplayMedia === "function") add("screen", "My screen");
  ui.source.value = `camera:${current}`;
  if (ui.source.selectedIndex < 0) ui.source.selectedIndex = 0;
}

/**
 * Shows the AI another source without leaving: the preview element, which the send pipeline
 * draws from, gets the new stream (no renegotiation; the sent size stays, the picture is fitted
 * in). A shared screen that ends (the browser's "Stop sharing") goes back to the camera.
 */
async function switchSource(value: string): Promise<void> {
  let next: MediaStream;
  try {
    if (value === "screen") next = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    else {
      const deviceId = value.slice("camera:".length);
      next = await navigator.mediaDevices.getUserMedia({ video: { ...(deviceId ? { deviceId: { exact: deviceId } } : {}), width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    }
  } catch (err) {
    showProblem(value === "screen"
      ? `Screen sharing did not start${err instanceof Error && err.name === "NotAllowedError" ? " (it was cancelled or refused)" : ""}; the AI still sees the camera.`
      : cameraErrorMessage(err));
    await fillSources();
    return;
  }
  showProblem(null);
  const old = camera;
  camera = next;
  ui.preview.srcObject = next;
  await ui.preview.play().catch(() => {});
  old?.getTracks().forEach((t) => t.stop());
  const track = next.getVideoTracks()[0];
  if (value === "screen") {
    ui.source.value = "screen";
    setStatus("The AI now sees your screen. Choose a camera under \"Show the AI\" to go back.");
    track?.addEventListener("ended", () => {
      if (camera === next) void switchSource("camera:");
    });
  } else {
    await fillSources();
    setStatus("The AI now sees your camera.");
  }
}

/** Waits before each reconnect attempt (s): quick at first, then every 15 s, for about two minutes. */
const RECONNECT_DELAYS_S = [1, 2, 4, 8, 15, 15, 15, 15, 15, 15, 15];
let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
let reconnectAttempt = 0;
/** The current call came from a reconnect (until Leave). */
let rejoined = false;

/**
 * The call ended without Leave (the server went away, the media path failed): the transcript and
 * the camera stay, open questions say they got no answer, and the page joins again by itself,
 * with backoff, or at once with Rejoin.
 */
function lostCall(reason: string): void {
  call = null;
  serverState = undefined;
  for (const item of answerItems.values()) {
    if (item.final) continue;
    item.li.querySelector(".text")!.textContent = "No answer: the connection to the server was lost. Ask again once reconnected.";
    closeAnswer(item, true);
  }
  answerItems.clear();
  drawOverlay(ui.overlay, null);
  ui.mapLabel.textContent = NO_MAP_TEXT;
  showProblem(`${reason.replace(/ Join again when it is back\.$/, "")} Reconnecting…`);
  ui.rejoin.hidden = false;
  showAiState("joining", "AI: reconnecting…");
  reconnectAttempt = 0;
  scheduleReconnect();
}

function scheduleReconnect(): void {
  if (reconnectTimer !== null) clearTimeout(reconnectTimer);
  const delay = RECONNECT_DELAYS_S[reconnectAttempt];
  if (delay === undefined) {
    reconnectTimer = null;
    setStatus("Could not reconnect to the call server. Press Rejoin to try again, or Leave.");
    return;
  }
  setStatus(`Reconnecting in ${delay} s (attempt ${reconnectAttempt + 1} of ${RECONNECT_DELAYS_S.length})…`);
  reconnectTimer = setTimeout(() => void reconnect(), delay * 1000);
}

async function reconnect(): Promise<void> {
  if (reconnectTimer !== null) clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (call || !camera) return;
  reconnectAttempt++;
  ui.rejoin.disabled = true;
  try {
    setStatus("Reconnecting…");
    rejoined = true;
    call = await connect();
    ui.rejoin.hidden = true;
    showProblem(null);
    setStatus("Reconnected: connecting the video again…");
    renderAiState();
  } catch (err) {
    showProblem(`${err instanceof Error ? err.message : String(err)} Reconnecting…`);
    scheduleReconnect();
  } finally {
    ui.rejoin.disabled = false;
  }
}

function endCall(polite: boolean): void {
  rejoined = false;
  if (reconnectTimer !== null) clearTimeout(reconnectTimer);
  reconnectTimer = null;
  ui.rejoin.hidden = true;
  if (statsTimer !== null) clearInterval(statsTimer);
  statsTimer = null;
  if (call && polite) call.leave();
  call = null;
  stopCamera();
  drawOverlay(ui.overlay, null);
  ui.mapLabel.textContent = NO_MAP_TEXT;
  answerItems.clear();
  lastRefused = false;
  serverState = undefined;
  showAiState("joining");
  ui.callPanel.hidden = true;
  ui.joinPanel.hidden = false;
  ui.join.focus();
  if (polite) setStatus("You left the call.");
  else setStatus("Not in a call.");
}

ui.joinForm.addEventListener("submit", (ev) => void onJoin(ev));
for (const b of document.querySelectorAll<HTMLButtonElement>("#ai-help .example")) {
  // An example fills the question box (the person may change it) and puts the focus there.
  b.addEventListener("click", () => {
    ui.question.value = b.textContent ?? "";
    ui.question.focus();
  });
}
ui.room.addEventListener("input", () => checkIdField(ui.room, "Room"));
ui.name.addEventListener("input", () => checkIdField(ui.name, "Your name"));
ui.askForm.addEventListener("submit", onAsk);
ui.leave.addEventListener("click", () => endCall(true));
ui.rejoin.addEventListener("click", () => void reconnect());
ui.source.addEventListener("change", () => void switchSource(ui.source.value));
window.addEventListener("pagehide", () => call?.leave());

declare global {
  interface Window {
    aiCall: { snapshot(): CallSnapshot | null; ask(text: string): string | null; inCall(): boolean; aiStates(): AiStateKey[] };
  }
}
window.aiCall = {
  snapshot: () => call?.snapshot() ?? null,
  ask: (text) => askQuestion(text),
  inCall: () => call !== null && !call.isEnded,
  aiStates: () => [...aiStates],
};
