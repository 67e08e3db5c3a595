/**
 * One participant's media on the server: the werift peer connection (answerer), the receive path
 * of its video, its control data channel, and the RTCP it is sent (PLI, NACK, REMB). The AI peer
 * of the room talks to the participant through this object.
 */
import { RTCPeerConnection, RtcpPayloadSpecificFeedback, ReceiverEstimatedMaxBitrate, type RTCDataChannel, type RTCRtpReceiver } from "werift";
import type { RtpVideoCodec } from "../../encoder/rtp/index.ts";
import type { MediaLog } from "../media/errors.ts";
import { ReceivePath, type ReceiveStats } from "../media/receive-path.ts";
import { weriftRtcpCallbacks } from "../media/werift-rtcp.ts";
import { parseDataChannelMessage, type FromPublisherMessage, type ToPublisherMessage } from "../protocol/datachannel.ts";
import { videoCodecParameters } from "../publisher/peer.ts";
import type { StoredFrame } from "../agent/agent.ts";
import { rembFields } from "./remb.ts";

export interface ParticipantMediaOptions {
  readonly ffmpeg: string;
  /** Size the decoder scales received video to (what the AI and the context engine see). */
  readonly width: number;
  readonly height: number;
  readonly iceAdditionalHostAddresses: string[];
  readonly log: MediaLog;
  readonly clock: () => number;
  /** How many recent decoded frames to keep for the AI (it looks at 1-2 per question). */
  readonly keepFrames?: number;
  readonly onControl: (msg: FromPublisherMessage) => void;
  readonly onControlError: (message: string) => void;
  readonly onControlOpen: () => void;
}

export class ParticipantMedia {
  readonly pc: RTCPeerConnection;
  private receivePath: ReceivePath | null = null;
  private receiver: RTCRtpReceiver | null = null;
  private ssrc: number | undefined;
  private control: RTCDataChannel | null = null;
  private readonly recent: StoredFrame[] = [];
  private closed = false;

  constructor(private readonly o: ParticipantMediaOptions) {
    this.pc = new RTCPeerConnection({
      codecs: { video: [videoCodecParameters("h264"), videoCodecParameters("vp8")] },
      iceAdditionalHostAddresses: o.iceAdditionalHostAddresses,
      // One transport for media and data (RFC 8843). With werift's default policy each closed
      // connection left 3 UDP sockets open (the unbundled transports are never closed).
      bundlePolicy: "max-bundle",
    });
    this.pc.onTransceiverAdded.subscribe((t) => {
      t.onTrack.subscribe((track) => {
        const codec: RtpVideoCodec = (track.codec?.mimeType ?? "video/H264").toLowerCase().includes("vp8") ? "vp8" : "h264";
        this.ssrc = track.ssrc;
        this.receiver = t.receiver;
        const rtcp = weriftRtcpCallbacks(t.receiver, o.log);
        this.receivePath = new ReceivePath({
          codec, ffmpeg: o.ffmpeg, width: o.width, height: o.height, clock: o.clock, log: o.log,
          ...(track.ssrc ? { ssrc: track.ssrc } : {}),
          onKeyframeNeeded: rtcp.onKeyframeNeeded,
          onNack: rtcp.onNack,
          onFrame: (f) => {
            // arrivalMs is when the frame's last packet arrived, not when it was decoded: a frame
            // captured before a region map took effect but decoded late must not pass for a new one.
            this.recent.push({ frame: f, captureMs: f.timestampMs, arrivalMs: f.lastPacketArrivalMs });
            if (this.recent.length > (o.keepFrames ?? 4)) this.recent.shift();
          },
        });
        track.onReceiveRtp.subscribe((rtp) => {
          try {
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
        const parsed = parseDataChannelMessage(typeof data === "string" ? data : new Uint8Array(data));
        if (!parsed.ok) {
          o.onControlError(parsed.error.message);
          return;
        }
        o.onControl(parsed.msg as FromPublisherMessage);
      });
    });
  }

  /** Applies the participant's offer and returns the answer (candidates included). */
  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: "offer", sdp: offerSdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.pc.localDescription!.sdp;
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

  recentFrames(count: number): StoredFrame[] {
    return this.recent.slice(-count);
  }

  stats(): ReceiveStats | null {
    return this.receivePath?.stats() ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.receivePath?.close();
    await this.pc.close();
  }
}
