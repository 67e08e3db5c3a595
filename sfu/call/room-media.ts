/**
 * One participant's media on the server: the werift peer connection (answerer), the receive path
 * of its video, its control data channel, and the RTCP it is sent (PLI, NACK, REMB). The AI peer
 * of the room talks to the participant through this object.
 *
 * The receive policy decides what is negotiated and sent: a policy without retransmissions
 * (resilient) declines generic NACK in the answer (sdp-feedback.ts), so the sender knows. NACKs
 * are the policy's alone: werift's own NackHandler, which runs as long as PLI is negotiated and
 * re-NACKs every 5 ms (at a 100 ms round trip, 1248 packets resent for 104 lost), is switched off
 * for every policy (werift-rtcp.ts). A sampler takes the store's newest frame at the MLLM's
 * sampling rate, so the metrics count the samples the previous good frame had to serve
 * (`framesSubstituted`).
 *
 * Per-frame FEC: the headless publisher offers a second video m-section carrying a parity stream
 * (codec `video/x-frame-fec`, its own SSRC; why a transceiver of its own: sfu/publisher/peer.ts).
 * The server always knows the codec (werift fails the whole offer on an m-section with no codec
 * it knows). With `fecPolicy` (the call server gives one under the resilient policy) it takes the
 * stream: the video's receive path runs that policy (`resilientPolicy({ fec: true })`: a reorder
 * window the parity has time to fill) with a FrameFecReceiver before its jitter buffer, and the
 * parity track's packets go to `ReceivePath.onParity`. Without it (classic: NACK instead) the
 * parity transceiver is set `inactive` before the answer, which werift writes as port 0 + a=inactive,
 * and the publisher sends nothing on it. A browser offers no such m-section: nothing changes.
 */
import {
  RTCPeerConnection, RTP_EXTENSION_URI, RtcpPayloadSpecificFeedback, ReceiverEstimatedMaxBitrate, useAbsSendTime, useTransportWideCC, type Extensions, type RTCDataChannel, type RTCRtpReceiver, type RtpPacket,
} from "werift";
import type { RtpVideoCodec } from "../../encoder/rtp/index.ts";
import type { MediaLog } from "../media/errors.ts";
import { AbsSendTimeUnwrapper } from "../media/gcc/abs-send-time.ts";
import { DelayBasedEstimator, type DelayBasedSnapshot } from "../media/gcc/delay-based.ts";
import { ReceivePath, type ReceiveStats } from "../media/receive-path.ts";
import type { ReceivePolicy } from "../media/receive-policy.ts";
import { FEEDBACK_INTERVAL_MS, TransportFeedbackBuilder } from "../media/gcc/transport-feedback.ts";
import { stopWeriftNacks, stopWeriftTwcc, weriftRtcpCallbacks } from "../media/werift-rtcp.ts";
import { parseDataChannelMessage, type FromPublisherMessage, type ToPublisherMessage } from "../protocol/datachannel.ts";
import { frameFecCodecParameters, isFrameFecCodec, videoCodecParameters } from "../publisher/peer.ts";
import type { StoredFrame } from "../agent/agent.ts";
import { rembFields } from "./remb.ts";
import { hasFrameFecSection, hasGenericNack, offersFrameFec, withoutGenericNack, withoutTransportCc } from "./sdp-feedback.ts";


export interface ParticipantMediaOptions {
  readonly ffmpeg: string;
  /** Size the decoder scales received video to (what the AI and the context engine see). */
  readonly width: number;
  readonly height: number;
  readonly iceAdditionalHostAddresses: string[];
  readonly log: MediaLog;
  readonly clock: () => number;
  /** A fresh policy for this participant's video (classic keeps per-stream NACK state). */
  readonly policy: ReceivePolicy;
  /**
   * The policy for the video when the publisher offers per-frame FEC; the offer's parity stream is
   * taken only when this is given (declined otherwise).
   */
  readonly fecPolicy?: ReceivePolicy;
  /**
   * The policy (and frame wait, default `frameWaitMs`) for a sender whose offer has no per-frame
   * FEC section at all: a browser (the headless publisher offers one, taken or not, unless its
   * `fec` is off). Absent: `policy`. The call server gives `classicPolicy()` here under the
   * resilient policy: a browser's long-GOP video without repair
   * lost more frames under resilient than under classic (issue 14: Chromium through the UDP
   * relay at 5% / 10% loss, 7.2 / 5.3 decoded frames a second against 8.8 / 7.0).
   */
  readonly plainSender?: { readonly policy: ReceivePolicy; readonly frameWaitMs?: number };
  /** The jitter buffer's cap on waiting for an incomplete frame (ReceivePath `maxWaitMs`). Default 100 ms. */
  readonly frameWaitMs?: number;
  /** Frames per second the MLLM samples; the sampler runs at this rate. Default 2. */
  readonly samplingFps?: number;
  /** Frame delay percentiles over this many recent frames (ReceivePath `frameDelayWindow`). Default 300. */
  readonly frameDelayWindow?: number;
  /** How many recent decoded frames to keep for the AI (it looks at 1-2 per question). */
  readonly keepFrames?: number;
  readonly onControl: (msg: FromPublisherMessage) => void;
  /**
   * A control message that failed to parse; `questionId` when it still reads as a question with an
   * id, so the asker can be told why it gets no answer.
   */
  readonly onControlError: (message: string, questionId?: string) => void;
  readonly onControlOpen: () => void;
  /**
   * Bounds of the delay-based estimate (GCC's receiver side, sfu/media/gcc) run on the video's
   * abs-send-time; without them none is run.
   */
  readonly delayBased?: { readonly minBps: number; readonly maxBps: number };
  /**
   * Whether a packet read at this time may have waited behind a stall of the event loop (the
   * server's LoopStallWatch, sfu/media/gcc/loop-stalls.ts): its arrival time then stays out of the
   * delay-based estimate. Transport-wide feedback still reports it as read (the format has no way
   * to say "arrival unknown", and leaving it out would read as a loss). Absent: every read is timed.
   */
  readonly untimedRead?: (nowMs: number) => boolean;
  /** The delay-based estimate fell (by 3% or more since last told), so the caller can act before its next tick. */
  readonly onDelayEstimateDrop?: (bps: number) => void;
}

/** The id of a question that failed its schema (a reply can still name it), or undefined. */
function questionIdOf(raw: string | Uint8Array, code: string): string | undefined {
  if (code !== "BAD_MESSAGE") return undefined; // too large or not JSON: nothing to read safely
  try {
    const m = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw)) as { type?: unknown; id?: unknown };
    return m.type === "question" && typeof m.id === "string" && m.id.length > 0 && m.id.length <= 128 ? m.id : undefined;
  } catch {
    return undefined;
  }
}

export class ParticipantMedia {
  readonly pc: RTCPeerConnection;
  private receivePath: ReceivePath | null = null;
  private receiver: RTCRtpReceiver | null = null;
  private ssrc: number | undefined;
  private control: RTCDataChannel | null = null;
  private readonly recent: StoredFrame[] = [];
  private readonly sampler: NodeJS.Timeout;
  private genericNack = false;
  /** Set from the offer, before werift sees it: the parity stream is offered and taken. */
  private fec = false;
  /** The policy the video runs, set from the offer (`answer`) before werift makes the receive path. */
  private chosenPolicy: ReceivePolicy;
  /** The offer had no per-frame FEC section and `plainSender` applies. */
  private plain = false;
  private closed = false;
  private readonly delay: DelayBasedEstimator | null;
  private readonly sendTimes = new AbsSendTimeUnwrapper();
  private delayToldBps = Infinity;
  private delayPackets = 0;
  /** Transport-wide CC feedback to the participant's sender, every FEEDBACK_INTERVAL_MS while packets arrive. */
  private readonly transportFeedback = new TransportFeedbackBuilder();
  private readonly feedbackTimer: NodeJS.Timeout;
  private captureOffsetMs = Infinity;
  /** The newest decoded keyframe (the model-need cap waits for one after a rate change). */
  private keyframe: StoredFrame | undefined;
  /** Sends a PLI to the video's sender (set once the track is known). */
  private pli: (() => void) | null = null;

  constructor(private readonly o: ParticipantMediaOptions) {
    this.chosenPolicy = o.policy;
    this.delay = o.delayBased ? new DelayBasedEstimator({ ...o.delayBased, startBps: o.delayBased.maxBps }) : null;
    this.pc = new RTCPeerConnection({
      codecs: { video: [videoCodecParameters("h264"), videoCodecParameters("vp8"), frameFecCodecParameters()] },
      iceAdditionalHostAddresses: o.iceAdditionalHostAddresses,
      // One transport for media and data (RFC 8843). With werift's default policy each closed
      // connection left 3 UDP sockets open (the unbundled transports are never closed).
      bundlePolicy: "max-bundle",
      // The sender's send time on every packet, for the delay-based estimate (draft-ietf-rmcat-gcc-02
      // §5 runs on the receiver with these and tells the sender by REMB). Chromium and the headless
      // publisher both write it when it is negotiated.
      // Transport-wide sequence numbers (draft-holmer-rmcat-transport-wide-cc-extensions-01) for the
      // feedback the sender's congestion window and Chromium's send-side GCC run on.
      headerExtensions: { video: [useAbsSendTime(), useTransportWideCC()] },
    });
    this.pc.onTransceiverAdded.subscribe((t) => {
      stopWeriftNacks(t.receiver);
      stopWeriftTwcc(t.receiver);
      t.onTrack.subscribe((track) => {
        if (isFrameFecCodec(track.codec)) {
          // The parity stream: taken (fed to the video's receive path) or declined (answered
          // inactive; anything that still comes is ignored).
          if (!this.fec) return;
          track.onReceiveRtp.subscribe((rtp, ext) => {
            try {
              this.onPacketTiming(rtp, ext);
              this.receivePath?.onParity(rtp.serialize(), o.clock());
            } catch (err) {
              o.log({ level: "warn", msg: "receive path threw on a parity packet", error: err });
            }
          });
          return;
        }
        const codec: RtpVideoCodec = (track.codec?.mimeType ?? "video/H264").toLowerCase().includes("vp8") ? "vp8" : "h264";
        this.ssrc = track.ssrc;
        this.receiver = t.receiver;
        const rtcp = weriftRtcpCallbacks(t.receiver, o.log);
        this.pli = () => {
          if (track.ssrc) rtcp.onKeyframeNeeded(track.ssrc);
        };
        const frameWaitMs = this.plain ? (o.plainSender!.frameWaitMs ?? o.frameWaitMs) : o.frameWaitMs;
        this.receivePath = new ReceivePath({
          codec, ffmpeg: o.ffmpeg, width: o.width, height: o.height, clock: o.clock, log: o.log,
          policy: this.chosenPolicy,
          fec: this.fec,
          ...(frameWaitMs !== undefined ? { maxWaitMs: frameWaitMs } : {}),
          ...(o.frameDelayWindow !== undefined ? { frameDelayWindow: o.frameDelayWindow } : {}),
          ...(track.ssrc ? { ssrc: track.ssrc } : {}),
          onKeyframeNeeded: rtcp.onKeyframeNeeded,
          onNack: rtcp.onNack,
          onFrame: (f) => {
            // arrivalMs is when the frame's last packet arrived, not when it was decoded: a frame
            // captured before a region map took effect but decoded late must not pass for a new one.
            // The capture time on this clock: the least arrival-minus-capture so far is the clocks'
            // offset plus the fastest transit (vision on demand answers from frames taken after a question).
            this.captureOffsetMs = Math.min(this.captureOffsetMs, f.lastPacketArrivalMs - f.timestampMs);
            const stored = { frame: f, captureMs: f.timestampMs, arrivalMs: f.lastPacketArrivalMs, keyframe: f.keyframe, captureLocalMs: f.timestampMs + this.captureOffsetMs };
            this.recent.push(stored);
            if (f.keyframe) this.keyframe = stored;
            if (this.recent.length > (o.keepFrames ?? 4)) this.recent.shift();
          },
        });
        track.onReceiveRtp.subscribe((rtp, ext) => {
          try {
            this.onPacketTiming(rtp, ext);
            this.receivePath?.onRtp(rtp.serialize(), o.clock());
          } catch (err) {
            o.log({ level: "warn", msg: "receive path threw", error: err });
          }
        });
      });
    });
    this.pc.onDataChannel.subscribe((channel) => {
      if (channel.label !== "control") return;
      this.control = channel;
      channel.stateChanged.subscribe((s) => {
        if (s === "open") o.onControlOpen();
      });
      if (channel.readyState === "open") queueMicrotask(() => o.onControlOpen());
      channel.onMessage.subscribe((data) => {
        const raw = typeof data === "string" ? data : new Uint8Array(data);
        const parsed = parseDataChannelMessage(raw);
        if (!parsed.ok) {
          o.onControlError(parsed.error.message, questionIdOf(raw, parsed.error.code));
          return;
        }
        o.onControl(parsed.msg as FromPublisherMessage);
      });
    });
    const fps = o.samplingFps ?? 2;
    if (!(fps > 0 && Number.isFinite(fps))) throw new RangeError(`samplingFps must be a number > 0, got ${fps}`);
    this.sampler = setInterval(() => this.receivePath?.store.sampleAt(o.clock(), fps), 1000 / fps);
    this.sampler.unref();
    this.feedbackTimer = setInterval(() => this.sendTransportFeedback(), FEEDBACK_INTERVAL_MS);
    this.feedbackTimer.unref();
  }

  private sendTransportFeedback(): void {
    const r = this.receiver;
    if (!r || !this.ssrc) return;
    const packets = this.transportFeedback.build(r.rtcpSsrc, this.ssrc);
    if (packets.length === 0) return;
    r.dtlsTransport.sendRtcp(packets.map((p) => ({ serialize: () => Buffer.from(p) })) as unknown as Parameters<typeof r.dtlsTransport.sendRtcp>[0]).catch(() => {});
  }

  /** Whether the answer negotiated generic NACK (false under the resilient policy). */
  get retransmissionsNegotiated(): boolean {
    return this.genericNack;
  }

  /** Whether the publisher's per-frame FEC parity stream was offered and taken. */
  get fecNegotiated(): boolean {
    return this.fec;
  }

  /** The receive policy the participant's video runs (chosen from its offer; `policy` before one). */
  get policyName(): string {
    return this.chosenPolicy.name;
  }

  /** Applies the participant's offer and returns the answer (candidates included). */
  async answer(offerSdp: string): Promise<string> {
    // Decided before werift sees the offer: the video's receive path is made during
    // setRemoteDescription (onTrack), with the policy this picks.
    this.fec = this.o.fecPolicy !== undefined && offersFrameFec(offerSdp);
    this.plain = this.o.plainSender !== undefined && !hasFrameFecSection(offerSdp);
    this.chosenPolicy = this.fec ? this.o.fecPolicy! : this.plain ? this.o.plainSender!.policy : this.o.policy;
    let sdp = this.chosenPolicy.retransmissions ? offerSdp : withoutGenericNack(offerSdp);
    // Transport-wide CC only for this project's own senders (the ones that offer the parity
    // stream), whose congestion window runs on it. Chromium with it switches to its send-side
    // GCC, which here climbed slower than on REMB (tests/e2e/browser-call, one run each: 587
    // against 736 kbps of an 800 kbps target before the map, and it misread the sign once at
    // 94 kbps on a loaded machine); browsers keep REMB until that is measured through the relay.
    if (!offersFrameFec(sdp)) sdp = withoutTransportCc(sdp);
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    if (!this.fec) {
      for (const t of this.pc.getTransceivers()) if (isFrameFecCodec(t.codecs[0])) t.setDirection("inactive");
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    const answer = this.pc.localDescription!.sdp;
    this.genericNack = hasGenericNack(answer);
    return answer;
  }

  sendControl(msg: ToPublisherMessage): boolean {
    if (!this.control || this.control.readyState !== "open") return false;
    this.control.send(JSON.stringify(msg));
    return true;
  }

  /** REMB to the participant's video sender (draft-alvestrand-rmcat-remb). */
  sendRemb(bitrateBps: number): void {
    const r = this.receiver;
    const ssrc = this.ssrc;
    if (!r || !ssrc) return;
    const { brExp, brMantissa } = rembFields(bitrateBps);
    const feedback = new ReceiverEstimatedMaxBitrate({
      senderSsrc: r.rtcpSsrc, mediaSsrc: 0, brExp, brMantissa, bitrate: BigInt(Math.floor(bitrateBps)), ssrcNum: 1, ssrcFeedbacks: [ssrc],
    });
    r.dtlsTransport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback })]).catch(() => {});
  }

  /** The delay-based estimate, or null before any packet with a send time (or when not run). */
  delayEstimate(): DelayBasedSnapshot | null {
    if (!this.delay || this.delayPackets === 0) return null;
    return this.delay.snapshot(this.o.clock());
  }

  /** The highest standing queue since the last call (ms), or null: no estimate or no packet. */
  takeMaxQueueMs(): number | null {
    return this.delay?.takeMaxQueueMs() ?? null;
  }

  /** Feeds a packet's send and arrival time (media and parity cross the same link) to the estimate. */
  private onPacketTiming(rtp: RtpPacket, ext: Extensions | undefined): void {
    const tseq = ext?.[RTP_EXTENSION_URI.transportWideCC];
    if (typeof tseq === "number") this.transportFeedback.onPacket(tseq, this.o.clock());
    if (!this.delay) return;
    const raw = ext?.[RTP_EXTENSION_URI.absSendTime];
    if (typeof raw !== "number") return;
    const sendMs = this.sendTimes.unwrapMs(raw);
    if (sendMs === null) return;
    this.delayPackets++;
    // The RTP header and payload; UDP, SRTP and IP overhead are the same for every packet.
    const now = this.o.clock();
    const bps = this.delay.onPacket(sendMs, now, 12 + rtp.payload.length, undefined, this.o.untimedRead?.(now) ?? false);
    if (bps <= 0.97 * this.delayToldBps) {
      this.delayToldBps = bps;
      this.o.onDelayEstimateDrop?.(bps);
    } else if (bps > this.delayToldBps) {
      this.delayToldBps = bps;
    }
  }

  /**
   * Asks the video's sender for a keyframe (RTCP PLI, RFC 4585 §6.3.1) without holding back the
   * frames that come meanwhile: vision on demand wants a fresh picture, the stream is not broken.
   */
  requestKeyframe(): void {
    this.pli?.();
  }

  /** The newest decoded keyframe, kept after it has left `recentFrames`. */
  newestKeyframe(): StoredFrame | undefined {
    return this.keyframe;
  }

  recentFrames(count: number): StoredFrame[] {
    return this.recent.slice(-count);
  }

  stats(): ReceiveStats | null {
    return this.receivePath?.stats() ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sampler);
    clearInterval(this.feedbackTimer);
    await this.receivePath?.close();
    await this.pc.close();
  }
}
