/**
 * The publisher's werift peer connection: one sendonly video transceiver (H.264 constrained
 * baseline, packetization-mode 1 (RFC 6184 §8.1), or VP8 (RFC 7741)), with NACK, PLI and REMB
 * feedback offered, and an ordered data channel "control" (RFC 8831) for the server's region maps
 * and rate targets. The offer goes out complete (werift's setLocalDescription waits for candidate
 * gathering), so no candidates are trickled from this side; the server's are accepted.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type RTCDataChannel, type RTCRtpTransceiver } from "werift";
import type { Codec } from "../../encoder/ffmpeg/filtergraph.ts";
import type { IceServer, ServerMessage } from "../protocol/messages.ts";
import { PublisherError } from "./errors.ts";
import type { SignalingClient } from "./signaling-client.ts";

const FEEDBACK = [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "goog-remb" }];

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
  readonly control: RTCDataChannel;
}

export function createPublisherPeer(codec: Codec, iceServers: readonly IceServer[], iceAdditionalHostAddresses?: string[]): PublisherPeer {
  const pc = new RTCPeerConnection({
    codecs: { video: [videoCodecParameters(codec)] },
    // One transport for media and data (RFC 8843); werift leaks the sockets of unbundled ones.
    bundlePolicy: "max-bundle",
    iceServers: iceServers.map((s) => ({ ...s })),
    ...(iceAdditionalHostAddresses ? { iceAdditionalHostAddresses } : {}),
  });
  const transceiver = pc.addTransceiver("video", { direction: "sendonly" });
  const control = pc.createDataChannel("control", { ordered: true });
  return { pc, transceiver, control };
}

/**
 * Offer, answer and ICE through signalling; resolves once the peer connection is connected and the
 * data channel open. Also answers a server-sent offer (renegotiation) for as long as it runs.
 */
export async function negotiate(peer: PublisherPeer, signaling: SignalingClient, timeoutMs: number): Promise<void> {
  const { pc, control } = peer;
  const offMessage = signaling.events.on("message", (msg) => void onServerMessage(pc, signaling, msg));
  const cleanups: Array<() => void> = [];
  const done = new Promise<void>((resolve, reject) => {
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
