import { describe, expect, it } from "vitest";
import { hasFrameFecSection, hasGenericNack, offersFrameFec, withoutGenericNack, withoutTransportCc } from "./sdp-feedback.ts";

const offer = [
  "v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96 102", "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack pli", "a=rtcp-fb:96 goog-remb",
  "a=rtpmap:102 H264/90000", "a=rtcp-fb:102 nack", "a=rtcp-fb:102 nack pli", "a=rtcp-fb:* nack", "a=rtcp-fb:102 ccm fir", "",
].join("\r\n");

describe("withoutGenericNack", () => {
  it("removes generic NACK for every payload type and keeps PLI, FIR, REMB and the line endings", () => {
    const out = withoutGenericNack(offer);
    expect(out.split("\r\n")).toEqual([
      "v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96 102", "a=rtpmap:96 VP8/90000",
      "a=rtcp-fb:96 nack pli", "a=rtcp-fb:96 goog-remb",
      "a=rtpmap:102 H264/90000", "a=rtcp-fb:102 nack pli", "a=rtcp-fb:102 ccm fir", "",
    ]);
    expect(hasGenericNack(offer)).toBe(true);
    expect(hasGenericNack(out)).toBe(false);
  });

  it("LF-only descriptions stay LF-only; one without NACK is unchanged", () => {
    const lf = "v=0\na=rtcp-fb:96 nack\na=rtcp-fb:96 nack pli\n";
    expect(withoutGenericNack(lf)).toBe("v=0\na=rtcp-fb:96 nack pli\n");
    expect(withoutGenericNack("v=0\na=rtcp-fb:96 nack pli\n")).toBe("v=0\na=rtcp-fb:96 nack pli\n");
  });
});

describe("offersFrameFec", () => {
  const video = ["m=video 9 UDP/TLS/RTP/SAVPF 96", "a=sendonly", "a=mid:0", "a=rtpmap:96 H264/90000"];
  const fec = (port: number, direction: string) => [`m=video ${port} UDP/TLS/RTP/SAVPF 97`, `a=${direction}`, "a=mid:1", "a=rtpmap:97 x-frame-fec/90000"];
  const data = ["m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=mid:2"];
  const sdp = (...sections: string[][]) => ["v=0", "o=- 1 1 IN IP4 0.0.0.0", ...sections.flat(), ""].join("\r\n");

  it("finds the parity m-section the publisher sends, in CRLF and LF descriptions", () => {
    expect(offersFrameFec(sdp(video, fec(9, "sendonly"), data))).toBe(true);
    expect(offersFrameFec(sdp(video, fec(9, "sendrecv"), data).replaceAll("\r\n", "\n"))).toBe(true);
  });

  it("is false for a browser's offer, a rejected or non-sending parity section, and the codec outside a video section", () => {
    expect(offersFrameFec(sdp(video, data))).toBe(false);
    expect(offersFrameFec(sdp(video, fec(0, "sendonly"), data))).toBe(false);
    expect(offersFrameFec(sdp(video, fec(9, "inactive"), data))).toBe(false);
    expect(offersFrameFec(sdp(video, fec(9, "recvonly"), data))).toBe(false);
    expect(offersFrameFec(sdp(video, ["m=audio 9 UDP/TLS/RTP/SAVPF 97", "a=sendonly", "a=rtpmap:97 x-frame-fec/90000"]))).toBe(false);
    expect(offersFrameFec(sdp(video, ["a=rtpmap:98 x-frame-fec-other/90000"]))).toBe(false);
  });
});

describe("hasFrameFecSection", () => {
  const video = ["m=video 9 UDP/TLS/RTP/SAVPF 96", "a=sendonly", "a=mid:0", "a=rtpmap:96 H264/90000"];
  const fec = (port: number, direction: string) => [`m=video ${port} UDP/TLS/RTP/SAVPF 97`, `a=${direction}`, "a=mid:1", "a=rtpmap:97 x-frame-fec/90000"];
  const sdp = (...sections: string[][]) => ["v=0", "o=- 1 1 IN IP4 0.0.0.0", ...sections.flat(), ""].join("\r\n");

  it("is true for the publisher's parity section whatever its port or direction, false for a browser's offer or the codec outside a video section", () => {
    expect(hasFrameFecSection(sdp(video, fec(9, "sendonly")))).toBe(true);
    expect(hasFrameFecSection(sdp(video, fec(0, "inactive")).replaceAll("\r\n", "\n"))).toBe(true);
    expect(hasFrameFecSection(sdp(video))).toBe(false);
    expect(hasFrameFecSection(sdp(video, ["m=audio 9 UDP/TLS/RTP/SAVPF 97", "a=sendonly", "a=rtpmap:97 x-frame-fec/90000"]))).toBe(false);
    expect(hasFrameFecSection(sdp(video, ["a=rtpmap:98 x-frame-fec-other/90000"]))).toBe(false);
  });
});

describe("withoutTransportCc", () => {
  it("removes the transport-cc feedback and its header extension, and nothing else", () => {
    const sdp = [
      "v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
      "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", "a=extmap:5/sendrecv http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
      "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 goog-remb", "a=rtcp-fb:96 transport-cc", "a=rtcp-fb:* transport-cc", "a=rtcp-fb:96 nack pli", "",
    ].join("\r\n");
    expect(withoutTransportCc(sdp).split("\r\n")).toEqual([
      "v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
      "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 goog-remb", "a=rtcp-fb:96 nack pli", "",
    ]);
  });
});
