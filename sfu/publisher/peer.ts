/**
 * The publisher's werift peer connection: one sendonly video transceiver (H.264 constrained
 * baseline, packetization-mode 1 (RFC 6184 §8.1), or VP8 (RFC 7741)), with NACK, PLI and REMB
 * feedback offered, and an ordered data channel "control" (RFC 8831) for the server's region maps
 * and rate targets. The offer goes out complete (werift's setLocalDescription waits for candidate
 * gathering), so no candidates are trickled from this side; the server's are accepted.
 *
 * With `fec`, a second sendonly video transceiver carries the per-frame FEC parity stream
 * (encoder/rtp/frame-fec.ts) under its own mid, SSRC and codec `video/x-frame-fec` (clock rate
 * 90000, no feedback). Why a transceiver of its own, not a second SSRC in the video m-section:
 * werift 0.24 routes incoming RTP by SSRC (media/router.ts), and it registers per m-section only
 * the first `a=ssrc` (plus an RTX SSRC when there are exactly two); a packet of any other SSRC is
 * dropped ("ssrcReceiver not found"). Its own m-section gets the parity SSRC registered on the
 * server, its own receiver and track, and a payload type only it accepts (werift's receiver drops
 * packets of payload types not negotiated on that transceiver). `RTCRtpSender.sendRtp` keeps the
 * writer's sequence numbers and timestamps and sets the SSRC and payload type of its transceiver,
 * which is what the parity writer expects. Each transceiver is given its codec explicitly
 * (werift would otherwise offer every configured video codec on both). A browser never offers
 * this codec, so its calls are unchanged; a server that does not want FEC answers the m-section
 * `inactive` (port 0), and then `fecTransceiver.currentDirection` is not "sendonly" and nothing is
 * sent on it.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, useAbsSendTime, useTransportWideCC, type RTCDataChannel, type RTCRtpTransceiver } from "werift";
import type { Codec } from "../../encoder/ffmpeg/filtergraph.ts";
import type { IceServer, ServerMessage } from "../protocol/messages.ts";
import { PublisherError } from "./errors.ts";
import type { SignalingClient } from "./signaling-client.ts";

/**
 * transport-cc: transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01), with its header extension below: the
 * sender's congestion window (and Chromium's send-side GCC) runs on it.
 */
const FEEDBACK = [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "goog-remb" }, { type: "transport-cc" }];

/** The parity stream's codec name (this project's own format, encoder/rtp/frame-fec.ts). */
export const FRAME_FEC_MIME_TYPE = "video/x-frame-fec";

export function frameFecCodecParameters(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({ mimeType: FRAME_FEC_MIME_TYPE, clockRate: 90000, rtcpFeedback: [] });
}

export function isFrameFecCodec(c: { readonly mimeType: string } | undefined): boolean {
  return c?.mimeType.toLowerCase() === FRAME_FEC_MIME_TYPE;
}

export function videoCodecParameters(codec: Codec): RTCRtpCodecParameters {
  return codec === "h264"
    ? new RTCRtpCodecParameters({
        mimeType: "video/H264",
        clockRate: 90000,
        rtcpFeedback: FEEDBACK,
        parameters: "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1",
      })
    : new RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, rtcpFeedback: FEEDBACK });
}

export interface PublisherPeer {
  readonly pc: RTCPeerConnection;
  readonly transceiver: RTCRtpTransceiver;
  /** The FEC parity stream's transceiver (null when FEC was not offered). */
  readonly fecTransceiver: RTCRtpTransceiver | null;
  readonly control: RTCDataChannel;
}

export interface PublisherPeerOptions {
  /** Offer a per-frame FEC parity stream next to the video. Default false. */
  readonly fec?: boolean;
}

export function createPublisherPeer(codec: Codec, iceServers: readonly IceServer[], iceAdditionalHostAddresses?: string[], options: PublisherPeerOptions = {}): PublisherPeer {
  const fec = options.fec ?? false;
  const pc = new RTCPeerConnection({
    codecs: { video: fec ? [videoCodecParameters(codec), frameFecCodecParameters()] : [videoCodecParameters(codec)] },
    // One transport for media and data (RFC 8843); werift leaks the sockets of unbundled ones.
    bundlePolicy: "max-bundle",
    // Send times for the server's delay-based estimate (sfu/media/gcc), which comes back as REMB;
    // transport-wide sequence numbers (werift writes them) for the server's transport feedback.
    headerExtensions: { video: [useAbsSendTime(), useTransportWideCC()] },
    iceServers: iceServers.map((s) => ({ ...s })),
    ...(iceAdditionalHostAddresses ? { iceAdditionalHostAddresses } : {}),
  });
  const transceiver = pc.addTransceiver("video", { direction: "sendonly" });
  let fecTransceiver: RTCRtpTransceiver | null = null;
  if (fec) {
    // The configuration's codec objects, now with the payload types werift gave them.
    const configured = pc.getConfiguration().codecs?.video ?? [];
    const parity = configured.find((c) => isFrameFecCodec(c));
    const media = configured.filter((c) => !isFrameFecCodec(c));
    if (!parity || media.length === 0) throw new PublisherError("NEGOTIATION_FAILED", "werift dropped a configured video codec");
    transceiver.codecs = media;
    fecTransceiver = pc.addTransceiver("video", { direction: "sendonly" });
    fecTransceiver.codecs = [parity];
  }
  const control = pc.createDataChannel("control", { ordered: true });
  return { pc, transceiver, fecTransceiver, control };
}

/**
 * Whether the server took the parity stream: its m-section answered `recvonly` (we send) with
 * the FEC codec. False before the answer and when the server declined it.
 */
export function fecNegotiated(peer: PublisherPeer): boolean {
  const t = peer.fecTransceiver;
  return t !== null && t.currentDirection === "sendonly" && isFrameFecCodec(t.sender.codec);
}

/**
 * Offer, answer and ICE through signalling; resolves once the peer connection is connected and the
 * data channel open. Also answers a server-sent offer (renegotiation) for as long as it runs.
 */
export async function negotiate(peer: PublisherPeer, signaling: SignalingClient, timeoutMs: number): Promise<void> {
  const { pc, control } = peer;
  const offMessage = signaling.events.on("message", (msg) => void onServerMessage(pc, signaling, msg));
  const cleanups: Array<() => void> = [];
  let offerSent = false;
  const done = new Promise<void>((resolve, reject) => {
    // A server that fails on the offer says so with an `error` instead of an answer (a werift
    // server that knows no codec of one m-section fails the whole offer).
    cleanups.push(signaling.events.on("message", (msg) => {
      if (offerSent && msg.type === "error") reject(new PublisherError("OFFER_REFUSED", `the server refused the offer: ${msg.code}: ${msg.message}`, { retryable: true }));
    }));
    const check = () => {
      if (pc.connectionState === "connected" && control.readyState === "open") resolve();
      if (pc.connectionState === "failed" || pc.connectionState === "closed") {
        reject(new PublisherError("NEGOTIATION_FAILED", `the peer connection is ${pc.connectionState}`, { retryable: true }));
      }
    };
    cleanups.push(
      pc.connectionStateChange.subscribe(check).unSubscribe,
      control.stateChanged.subscribe(check).unSubscribe,
      signaling.events.on("closed", () => reject(new PublisherError("SIGNALING_FAILED", "the signalling socket closed during negotiation", { retryable: true }))),
    );
  });
  done.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PublisherError("NEGOTIATION_FAILED", `no connection within ${timeoutMs} ms (ICE ${pc.iceConnectionState}, data channel ${control.readyState})`, { retryable: true })),
      timeoutMs,
    );
    timer.unref();
  });
  timeout.catch(() => {});
  try {
    await pc.setLocalDescription(await pc.createOffer());
    offerSent = true;
    if (!signaling.send({ type: "offer", sdp: pc.localDescription!.sdp })) {
      throw new PublisherError("SIGNALING_FAILED", "the signalling socket closed before the offer could be sent", { retryable: true });
    }
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
    for (const c of cleanups) c();
    // Keep answering server messages about the session (ICE, renegotiation) after connecting.
    if (pc.connectionState !== "connected") offMessage();
  }
}

async function onServerMessage(pc: RTCPeerConnection, signaling: SignalingClient, msg: ServerMessage): Promise<void> {
  try {
    if (msg.type === "answer") {
      await pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
    } else if (msg.type === "offer") {
      await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      signaling.send({ type: "answer", sdp: pc.localDescription!.sdp });
    } else if (msg.type === "ice") {
      const c = msg.candidate;
      await pc.addIceCandidate(
        c === null
          ? null
          : { candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined, usernameFragment: c.usernameFragment ?? undefined },
      );
    }
  } catch {
    // A bad description or candidate from the server fails the connection, which negotiate() reports.
  }
}
