/**
 * Declining generic NACK in an offer (RFC 4585 §4.2: the answerer removes the rtcp-fb values it
 * does not want; generic NACK is `a=rtcp-fb:PT nack` with no parameter, §6.2.1). The resilient
 * receive policy wants no retransmissions, and werift's answerer copies the offer's feedback into
 * its answer and runs a NackHandler of its own (NACKs every gap, every 5 ms, up to 10 times)
 * whenever `nack` is in it, so the offer is changed before werift sees it. `nack pli`, `ccm fir`,
 * `goog-remb` and `transport-cc` stay. The publisher reads the answer: no `nack` there tells it that
 * lost packets will not be repaired (sfu/publisher/loss-resilience.ts).
 *
 * Pure string work.
 */
const GENERIC_NACK = /^a=rtcp-fb:(\*|\d+) nack[ \t]*$/;

export function withoutGenericNack(sdp: string): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  return sdp.split(eol).filter((line) => !GENERIC_NACK.test(line)).join(eol);
}

/** True when any codec in the description negotiates generic NACK. */
export function hasGenericNack(sdp: string): boolean {
  return sdp.split(/\r?\n/).some((line) => GENERIC_NACK.test(line));
}

/** The lines of each video m-section that names the parity codec `x-frame-fec/90000`. */
function frameFecSections(sdp: string): string[][] {
  return sdp.split(/\r?\n(?=m=)/).slice(1)
    .map((section) => section.split(/\r?\n/))
    .filter((lines) => /^m=video \d+ /.test(lines[0] ?? "") && lines.some((l) => /^a=rtpmap:\d+ x-frame-fec\/90000\s*$/i.test(l)));
}

/**
 * True when any video m-section of the description names the codec `x-frame-fec/90000`, whatever
 * its direction or port: the offerer is this project's headless publisher with FEC on (a browser
 * never names it). The call server picks the receive policy for the other senders from this.
 */
export function hasFrameFecSection(sdp: string): boolean {
  return frameFecSections(sdp).length > 0;
}

/**
 * True when the description offers a per-frame FEC parity stream the offerer sends: a video
 * m-section, not rejected (port 0) and not `recvonly`/`inactive`, with an `a=rtpmap` for the codec
 * `x-frame-fec/90000` (sfu/publisher/peer.ts; only the headless publisher offers it).
 */
export function offersFrameFec(sdp: string): boolean {
  return frameFecSections(sdp).some((lines) => !/^m=video 0 /.test(lines[0]!) && !lines.some((l) => l === "a=recvonly" || l === "a=inactive"));
}

/**
 * Declining transport-wide congestion control in an offer: its feedback type
 * (`a=rtcp-fb:PT transport-cc`) and its header extension
 * (`a=extmap:N http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01`) go, so
 * the answer has neither and the sender keeps to REMB (draft-alvestrand-rmcat-remb).
 */
const TRANSPORT_CC_FB = /^a=rtcp-fb:(\*|\d+) transport-cc[ \t]*$/;
const TRANSPORT_CC_EXTMAP = /^a=extmap:\d+(\/\w+)? http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01[ \t]*$/;

export function withoutTransportCc(sdp: string): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  return sdp.split(eol).filter((line) => !TRANSPORT_CC_FB.test(line) && !TRANSPORT_CC_EXTMAP.test(line)).join(eol);
}
