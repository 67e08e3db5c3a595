/**
 * One call from the browser: token from `POST /api/token`, signalling over `/ws`
 * (sfu/protocol/messages.ts), one RTCPeerConnection sending the pre-filtered camera track, and the
 * `control` data channel (sfu/protocol/datachannel.ts) on which the AI peer steers the sender:
 *
 * - `region-map`: checked and resampled by the same `RegionMapTracker` the headless publisher uses,
 *   applied to the pre-filter, acknowledged (`region-map-ack`), dropped again at its valid-until;
 * - `rate-target`: applied with `RTCRtpSender.setParameters` (maxBitrate, maxFramerate) and as the
 *   pre-filter's frame pacing.
 *
 * Questions go up as signalling `chat`; the AI's answer streams back as `chat` chunks sharing the
 * question's id. Every message from the server is parsed at the edge; a bad one is reported and
 * dropped, and the call goes on.
 */
import type { ImportanceMap } from "../../encoder/importance/map.ts";
import { parseServerMessage, type AgentState, type AnswerFrameMessage, type ClientMessage, type JoinedMessage, type ServerMessage } from "../../sfu/protocol/messages.ts";
import { parseDataChannelMessage, type FromPublisherMessage, type RateTargetMessage } from "../../sfu/protocol/datachannel.ts";
import { RegionMapTracker } from "../../sfu/publisher/region-map.ts";
import { isRefusal } from "./ai-state.ts";
import { CameraPipeline } from "./camera-pipeline.ts";
import { describeHttpError, joinErrorMessage, serverErrorMessage } from "./errors.ts";
import { uplinkRates, uplinkSample, type UplinkRates, type UplinkSample } from "./stats.ts";

export interface CallEvents {
  /** A line for the status bar ("Connecting…", "In the call"). */
  status(text: string): void;
  /**
   * A chunk of the answer to question `id` (the chunks concatenate; `final` on the last, with
   * `refused` when the whole answer is a refusal).
   */
  answer(chunk: { id: string; text: string; final: boolean; latencyMs: number | null; refused: boolean }): void;
  /** The region map in force changed (null: back to uniform quality). */
  regionMap(map: ImportanceMap | null, version: number | null): void;
  /** A rate target was applied. */
  rateTarget(target: { maxBitrateBps: number; maxFramerate: number }): void;
  /** Something went wrong that the person should know about; `fatal` ends the call. */
  problem(message: string, fatal: boolean): void;
  /** What the server's AI peer says it does (signalling `agent-state`, in `seq` order). */
  agentState?(state: AgentState, questionId: string | undefined): void;
  /** The frame an answer was read from (the reply to `requestAnswerFrame`), or null: the server kept none. */
  answerFrame?(questionId: string, frame: AnswerFrameMessage | null): void;
}

export type Degradation = "balanced" | "maintain-resolution" | "maintain-framerate";
export const DEGRADATIONS: readonly Degradation[] = ["balanced", "maintain-resolution", "maintain-framerate"];

export interface JoinOptions {
  /** e.g. "http://127.0.0.1:8080"; the WebSocket URL is derived from it. */
  readonly origin: string;
  readonly room: string;
  readonly name: string;
  /** Plays the camera stream; its size is the send size. */
  readonly video: HTMLVideoElement;
  readonly events: CallEvents;
  /**
   * What the browser gives up when bits are short (WebRTC-PC RTCDegradationPreference). Default
   * "balanced" (the browsers' own default for cameras). See client/README.md for what each does
   * to the AI's reading.
   */
  readonly degradation?: Degradation;
  /**
   * Temporal layers for the video (WebRTC-SVC `scalabilityMode`, e.g. "L1T3"): a lost frame of an
   * upper layer breaks no frame of a lower one, so the server skips it instead of waiting for its
   * retransmission or asking for a keyframe (its "layered" receive path). A browser that does not
   * support the mode sends without layers. Default none.
   */
  readonly scalabilityMode?: string;
  /** Frame rate before the server's first target. Default 15. */
  readonly initialFps?: number;
  readonly joinTimeoutMs?: number;
}

/** The send-only video transceiver's sender, with temporal layers when asked for and supported. */
function addVideoTransceiver(pc: RTCPeerConnection, track: MediaStreamTrack, scalabilityMode: string | undefined): RTCRtpSender {
  if (scalabilityMode) {
    try {
      return pc.addTransceiver(track, { direction: "sendonly", sendEncodings: [{ scalabilityMode } as RTCRtpEncodingParameters] }).sender;
    } catch {
      // The browser does not know the mode (WebRTC-SVC: OperationError): send without layers.
    }
  }
  return pc.addTransceiver(track, { direction: "sendonly" }).sender;
}

/** Counters the page shows and automation reads. */
export interface CallSnapshot {
  readonly joined: boolean;
  readonly uplink: UplinkRates | null;
  readonly frameWidth: number | null;
  readonly frameHeight: number | null;
  readonly rttMs: number | null;
  readonly qualityLimitation: string | null;
  /** The browser's estimate of what the path carries, bits per second (null before it has one). */
  readonly availableOutgoingBps: number | null;
  readonly target: { maxBitrateBps: number; maxFramerate: number } | null;
  readonly mapVersion: number | null;
  readonly mapsApplied: number;
  readonly answerLatenciesMs: readonly number[];
  readonly filterMs: number | null;
  readonly framesOut: number;
  readonly connectionState: string;
}

export class Call {
  private readonly tracker: RegionMapTracker;
  private readonly asked = new Map<string, number>();
  private readonly answered = new Set<string>();
  /** Question id -> ms from asking to the first chunk of its answer (refusals taken out). */
  private readonly latencies = new Map<string, number>();
  private readonly answerText = new Map<string, string>();
  private agentSeq = -1;
  private prevSample: UplinkSample | null = null;
  private lastRates: UplinkRates | null = null;
  private lastSample: UplinkSample | null = null;
  private target: { maxBitrateBps: number; maxFramerate: number } | null = null;
  private mapsApplied = 0;
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private questionSeq = 0;
  private ended = false;
  private rateChain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly o: JoinOptions,
    private readonly ws: WebSocket,
    readonly joined: JoinedMessage,
    private readonly pc: RTCPeerConnection,
    private readonly sender: RTCRtpSender,
    private readonly control: RTCDataChannel,
    readonly pipeline: CameraPipeline,
  ) {
    this.tracker = new RegionMapTracker(pipeline.width, pipeline.height);
  }

  /** Gets a token, joins, and starts sending. Throws an Error whose message is meant for people. */
  static async join(o: JoinOptions): Promise<Call> {
    const token = await fetchToken(o.origin, o.room, o.name);
    o.events.status("Joining the room…");
    const { ws, joined } = await openSignalling(o.origin, token, o.joinTimeoutMs ?? 10_000);
    const pc = new RTCPeerConnection({ iceServers: joined.iceServers, bundlePolicy: "max-bundle" });
    const control = pc.createDataChannel("control", { ordered: true });
    const pipeline = new CameraPipeline(o.video, o.initialFps ?? 15, o.degradation ?? "balanced");
    const sender = addVideoTransceiver(pc, pipeline.track, o.scalabilityMode);
    const call = new Call(o, ws, joined, pc, sender, control, pipeline);
    call.wire();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    call.send({ type: "offer", sdp: pc.localDescription!.sdp });
    o.events.status("Connecting media…");
    return call;
  }

  private send(msg: ClientMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private sendControl(msg: FromPublisherMessage): void {
    if (this.control.readyState === "open") this.control.send(JSON.stringify(msg));
  }

  private wire(): void {
    const { events } = this.o;
    this.ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") return events.problem("The server sent a binary signalling frame; ignored.", false);
      const parsed = parseServerMessage(ev.data);
      if (!parsed.ok) return events.problem(`Ignored a bad message from the server: ${parsed.error.message}`, false);
      void this.onServerMessage(parsed.msg);
    };
    this.ws.onclose = (ev) => {
      if (this.ended) return;
      this.end();
      events.problem(`Lost the connection to the call server${ev.code ? ` (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ""})` : ""}. Join again when it is back.`, true);
    };
    this.pc.onicecandidate = (ev) => {
      const c = ev.candidate;
      this.send({ type: "ice", candidate: c ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment } : null });
    };
    this.pc.onconnectionstatechange = () => {
      const s = this.pc.connectionState;
      if (s === "connected") events.status("In the call: ask about what your camera sees.");
      if (s === "failed" && !this.ended) {
        this.end();
        events.problem("The media connection failed (no route to the server's media port). Check firewalls, then join again.", true);
      }
    };
    this.control.onmessage = (ev) => {
      if (typeof ev.data !== "string") return;
      const parsed = parseDataChannelMessage(ev.data);
      if (!parsed.ok) return events.problem(`Ignored a bad control message: ${parsed.error.message}`, false);
      const msg = parsed.msg;
      if (msg.type === "region-map") this.onRegionMap(msg);
      else if (msg.type === "rate-target") this.onRateTarget(msg);
      // answer-chunk duplicates the signalling chat; the chat path is the one shown.
    };
    this.statsTimer = setInterval(() => void this.sampleStats(), 1000);
  }

  private async onServerMessage(msg: ServerMessage): Promise<void> {
    const { events } = this.o;
    try {
      switch (msg.type) {
        case "answer":
          await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
          break;
        case "ice":
          if (msg.candidate) await this.pc.addIceCandidate({ ...msg.candidate, sdpMid: msg.candidate.sdpMid ?? null, sdpMLineIndex: msg.candidate.sdpMLineIndex ?? null, usernameFragment: msg.candidate.usernameFragment ?? null });
          break;
        case "chat": {
          if (msg.from === this.joined.identity) break;
          const asked = this.asked.get(msg.id);
          const first = asked !== undefined && !this.answered.has(msg.id);
          let latencyMs: number | null = null;
          if (first) {
            this.answered.add(msg.id);
            latencyMs = performance.now() - asked;
            this.latencies.set(msg.id, latencyMs);
          }
          // A refusal comes back in milliseconds and says nothing of how fast the AI answers:
          // it leaves the latency figures once it is known to be one.
          const text = (this.answerText.get(msg.id) ?? "") + msg.text;
          const refused = msg.final && isRefusal(text);
          if (msg.final) {
            this.answerText.delete(msg.id);
            if (refused) this.latencies.delete(msg.id);
          } else if (asked !== undefined) this.answerText.set(msg.id, text);
          events.answer({ id: msg.id, text: msg.text, final: msg.final, latencyMs, refused });
          break;
        }
        case "error":
          // The frame of an answer the server no longer keeps: the page says so by the answer.
          if (msg.code === "NOT_FOUND" && msg.field === "questionId" && typeof msg.requestId === "string") events.answerFrame?.(msg.requestId, null);
          else events.problem(`The server reported ${msg.code}: ${msg.message}`, false);
          break;
        case "answer-frame":
          events.answerFrame?.(msg.questionId, msg);
          break;
        case "agent-state":
          // Signalling is ordered, but a state older than the last one seen is dropped all the same.
          if (msg.seq <= this.agentSeq) break;
          this.agentSeq = msg.seq;
          events.agentState?.(msg.state, msg.questionId);
          break;
        case "left":
          this.end();
          events.status("You left the call.");
          break;
        default:
          break;
      }
    } catch (err) {
      events.problem(`Could not apply the server's ${msg.type}: ${err instanceof Error ? err.message : String(err)}`, false);
    }
  }

  private onRegionMap(msg: Parameters<RegionMapTracker["offer"]>[0]): void {
    const d = this.tracker.offer(msg, Date.now());
    this.sendControl({ type: "region-map-ack", version: d.version, applied: d.applied, ...(d.applied ? {} : { reason: d.reason }) });
    if (!d.applied) {
      this.o.events.problem(`Region map ${d.version} not applied: ${d.message}`, false);
      return;
    }
    this.mapsApplied++;
    this.pipeline.setMap(d.map);
    this.o.events.regionMap(d.map, d.version);
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.expireMap(), Math.max(0, d.validUntilMs - Date.now()) + 5);
  }

  private expireMap(): void {
    this.expiryTimer = null;
    this.tracker.expire(Date.now());
    const cur = this.tracker.current;
    this.pipeline.setMap(cur ? cur.map : null);
    if (!cur) this.o.events.regionMap(null, null);
  }

  private onRateTarget(msg: RateTargetMessage): void {
    const target = { maxBitrateBps: msg.maxBitrateBps, maxFramerate: msg.maxFramerate };
    this.target = target;
    this.pipeline.setFrameRate(msg.maxFramerate);
    // setParameters calls must not overlap (each needs the transaction id of the last get).
    this.rateChain = this.rateChain.then(async () => {
      const p = this.sender.getParameters();
      if (!p.encodings || p.encodings.length === 0) p.encodings = [{}];
      for (const e of p.encodings) {
        e.maxBitrate = target.maxBitrateBps;
        e.maxFramerate = target.maxFramerate;
      }
      // WebRTC-PC RTCDegradationPreference; not every browser takes it (then the content hint,
      // set by the pipeline, says the same).
      (p as RTCRtpSendParameters & { degradationPreference?: string }).degradationPreference = this.o.degradation ?? "balanced";
      try {
        await this.sender.setParameters(p);
      } catch {
        delete (p as RTCRtpSendParameters & { degradationPreference?: string }).degradationPreference;
        await this.sender.setParameters(this.withFreshTransaction(p));
      }
      this.o.events.rateTarget(target);
    }).catch((err: unknown) => this.o.events.problem(`Could not apply the rate target: ${err instanceof Error ? err.message : String(err)}`, false));
  }

  private withFreshTransaction(p: RTCRtpSendParameters): RTCRtpSendParameters {
    const fresh = this.sender.getParameters();
    return { ...p, transactionId: fresh.transactionId };
  }

  private async sampleStats(): Promise<void> {
    if (this.ended) return;
    let report: RTCStatsReport;
    try {
      report = await this.sender.getStats();
    } catch {
      return;
    }
    const sample = uplinkSample(report.values());
    if (!sample) return;
    if (this.prevSample) this.lastRates = uplinkRates(this.prevSample, sample) ?? this.lastRates;
    this.prevSample = sample;
    this.lastSample = sample;
    const r = this.lastRates;
    this.sendControl({
      type: "metrics",
      timestampMs: Date.now(),
      ...(r ? { bitrateBps: Math.round(r.bitrateBps), framerate: r.framerate } : {}),
      ...(sample.frameWidth !== null ? { frameWidth: sample.frameWidth } : {}),
      ...(sample.frameHeight !== null ? { frameHeight: sample.frameHeight } : {}),
      ...(sample.rttMs !== null ? { rttMs: sample.rttMs } : {}),
      ...(r?.lossRatio != null ? { packetLossRatio: r.lossRatio } : {}),
    });
  }

  /** Asks for the frame the answer to `questionId` was read from; it arrives through `events.answerFrame`. */
  requestAnswerFrame(questionId: string): void {
    this.send({ type: "answer-frame-request", questionId });
  }

  /** Sends a question; returns its id. The answer arrives through `events.answer`. */
  ask(text: string): string {
    const id = `q${++this.questionSeq}-${Math.floor(Math.random() * 1e9).toString(36)}`;
    this.asked.set(id, performance.now());
    this.send({ type: "chat", id, text });
    return id;
  }

  snapshot(): CallSnapshot {
    const p = this.pipeline.stats();
    return {
      joined: !this.ended,
      uplink: this.lastRates,
      frameWidth: this.lastSample?.frameWidth ?? null,
      frameHeight: this.lastSample?.frameHeight ?? null,
      rttMs: this.lastSample?.rttMs ?? null,
      qualityLimitation: this.lastSample?.qualityLimitation ?? null,
      availableOutgoingBps: this.lastSample?.availableOutgoingBps ?? null,
      target: this.target,
      mapVersion: this.tracker.current?.version ?? null,
      mapsApplied: this.mapsApplied,
      answerLatenciesMs: [...this.latencies.values()],
      filterMs: p.filterMs,
      framesOut: p.framesOut,
      connectionState: this.pc.connectionState,
    };
  }

  /** Leaves politely: `leave` on signalling, then everything closed. */
  leave(): void {
    if (this.ended) return;
    this.send({ type: "leave" });
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.pipeline.stop();
    this.pc.close();
    // Let the leave go out first; the server also cleans up when the socket closes.
    setTimeout(() => this.ws.close(1000, "left"), 100);
  }

  get isEnded(): boolean {
    return this.ended;
  }
}

async function fetchToken(origin: string, room: string, identity: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(new URL("/api/token", origin), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ room, identity }),
    });
  } catch (err) {
    throw new Error(serverErrorMessage("get a join token", origin, err));
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new Error(describeHttpError(res.status, body));
  const token = body && typeof body === "object" && "token" in body ? (body as { token: unknown }).token : null;
  if (typeof token !== "string") throw new Error("The server's token answer had no token in it.");
  return token;
}

function openSignalling(origin: string, token: string, timeoutMs: number): Promise<{ ws: WebSocket; joined: JoinedMessage }> {
  const url = new URL("/ws", origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.close();
      reject(new Error(message));
    };
    const timer = setTimeout(() => fail(`The call server at ${origin} did not answer the join within ${timeoutMs / 1000} s.`), timeoutMs);
    ws.onopen = () => ws.send(JSON.stringify({ type: "join", token } satisfies ClientMessage));
    ws.onerror = () => fail(serverErrorMessage("open the signalling connection", origin, null));
    ws.onclose = (ev) => fail(`The call server closed the signalling connection (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ""}).`);
    ws.onmessage = (ev) => {
      const parsed = parseServerMessage(typeof ev.data === "string" ? ev.data : "");
      if (!parsed.ok) return;
      const msg: ServerMessage = parsed.msg;
      if (msg.type === "joined") {
        settled = true;
        clearTimeout(timer);
        ws.onopen = ws.onerror = ws.onclose = ws.onmessage = null;
        resolve({ ws, joined: msg });
      } else if (msg.type === "error") {
        fail(joinErrorMessage(msg.code, msg.message));
      }
    };
  });
}
