/**
 * Turns the receive path's requests into RTCP on a werift receiver: keyframe requests as PLI
 * (RFC 4585 §6.3.1) through `receiver.sendRtcpPLI`, NACKs as generic NACK transport-layer feedback
 * (RFC 4585 §6.2.1).
 *
 * werift quirks to know when choosing a policy:
 *  - A receiver whose codec negotiated `nack` runs its own NackHandler: it NACKs every sequence gap
 *    by itself, every 5 ms, up to 10 times per packet, whatever our policy says. With the classic
 *    policy that duplicates our NACKs (harmless: the sender resends from its cache); for a
 *    loss-resilient policy that wants no retransmissions, do not negotiate `nack` at all.
 *  - `sendRtcpPLI` does nothing unless `nack pli` was negotiated, and swallows send errors.
 */
import { GenericNack, type RTCRtpReceiver, RtcpTransportLayerFeedback } from "werift";
import { type MediaLog, silentLog } from "./errors.ts";

export interface RtcpCallbacks {
  readonly onKeyframeNeeded: (ssrc: number) => void;
  readonly onNack: (ssrc: number, sequenceNumbers: number[]) => void;
}

export function weriftRtcpCallbacks(receiver: RTCRtpReceiver, log: MediaLog = silentLog): RtcpCallbacks {
  const failed = (what: string) => (err: unknown) => log({ level: "warn", msg: `sending ${what} failed`, error: err });
  return {
    onKeyframeNeeded: (ssrc) => {
      receiver.sendRtcpPLI(ssrc).catch(failed("PLI"));
    },
    onNack: (ssrc, sequenceNumbers) => {
      const feedback = new GenericNack({ senderSsrc: receiver.rtcpSsrc, mediaSourceSsrc: ssrc, lost: sequenceNumbers });
      try {
        receiver.dtlsTransport.sendRtcp([new RtcpTransportLayerFeedback({ feedback })]).catch(failed("NACK"));
      } catch (err) {
        failed("NACK")(err);
      }
    },
  };
}
