/**
 * Turns the receive path's requests into RTCP on a werift receiver: keyframe requests as PLI
 * (RFC 4585 §6.3.1) through `receiver.sendRtcpPLI`, NACKs as generic NACK transport-layer feedback
 * (RFC 4585 §6.2.1).
 *
 * werift quirks to know when choosing a policy:
 *  - A receiver whose codec negotiated `nack` runs its own NackHandler: it NACKs every sequence gap
 *    by itself, every 5 ms, up to 10 times per packet, whatever our policy says. Next to a classic
 *    policy that duplicates our NACKs many times over: at a 100 ms round trip the sender resent
 *    1248 packets for 104 lost ones (tests/integration/resilient-receive.test.ts).
 *  - Its test (`receiver.nackEnabled`) looks for any feedback of type "nack", and `nack pli` is one:
 *    declining generic NACK in the SDP is not enough, the NackHandler runs as long as PLI is
 *    negotiated. The call server calls `stopWeriftNacks` for every policy, so NACKs are the policy's.
 *  - `sendRtcpPLI` does nothing unless `nack pli` was negotiated, and swallows send errors.
 */
import { GenericNack, type RTCRtpReceiver, RtcpTransportLayerFeedback } from "werift";
import { type MediaLog, silentLog } from "./errors.ts";

export interface RtcpCallbacks {
  readonly onKeyframeNeeded: (ssrc: number) => void;
  readonly onNack: (ssrc: number, sequenceNumbers: number[]) => void;
}

/**
 * Keeps werift's NackHandler from ever seeing a packet (werift 0.24: `handleRTP` feeds it only
 * while `nackEnabled` is truthy). PLI is untouched. After this `receiver.nackEnabled` is
 * undefined, which is how callers can check it.
 */
export function stopWeriftNacks(receiver: RTCRtpReceiver): void {
  Object.defineProperty(receiver, "nackEnabled", { configurable: true, get: () => undefined });
}

/**
 * Keeps werift's transport-wide CC feedback from starting (werift 0.24's ReceiverTWCC does not
 * survive the sequence number's wrap and reports only every 11 packets); the call server sends its
 * own (sfu/media/gcc/transport-feedback.ts).
 */
export function stopWeriftTwcc(receiver: RTCRtpReceiver): void {
  Object.defineProperty(receiver, "setupTWCC", { configurable: true, value: () => {} });
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
