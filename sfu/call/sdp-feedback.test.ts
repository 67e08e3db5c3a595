import { describe, expect, it } from "vitest";
import { hasGenericNack, withoutGenericNack } from "./sdp-feedback.ts";

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
