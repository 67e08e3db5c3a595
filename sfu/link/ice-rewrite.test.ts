import { describe, expect, it } from "vitest";
import { findCandidate, parseCandidate, rewriteCandidate, rewriteSdpCandidates, stripSdpCandidates } from "./ice-rewrite.ts";

const SDP = [
  "v=0",
  "o=- 1 1 IN IP4 0.0.0.0",
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  "c=IN IP4 0.0.0.0",
  "a=candidate:1 1 udp 2130706431 192.168.1.20 40001 typ host",
  "a=candidate:2 1 udp 2130706175 127.0.0.1 40002 typ host generation 0",
  "a=candidate:3 1 tcp 1518280447 127.0.0.1 40002 typ host tcptype passive",
  "a=candidate:4 1 udp 1694498815 203.0.113.7 50000 typ srflx raddr 192.168.1.20 rport 40001",
  "a=end-of-candidates",
  "",
].join("\r\n");

const route = { target: { address: "127.0.0.1", port: 40002 }, relay: { address: "127.0.0.1", port: 51000 } };

describe("ICE candidate rewriting", () => {
  it("parseCandidate: reads the RFC 8839 fields, with or without a=", () => {
    expect(parseCandidate("candidate:4 1 UDP 1694498815 203.0.113.7 50000 typ srflx raddr 1.2.3.4 rport 5")).toEqual({
      foundation: "4", component: 1, transport: "udp", priority: 1694498815, address: "203.0.113.7", port: 50000, type: "srflx",
    });
    expect(parseCandidate("a=candidate:garbage")).toBeUndefined();
  });

  it("rewriteSdpCandidates: the target's UDP candidate becomes the relay's; the others are dropped", () => {
    const out = rewriteSdpCandidates(SDP, route);
    const lines = out.split("\r\n");
    expect(lines.filter((l) => l.startsWith("a=candidate:"))).toEqual([
      "a=candidate:2 1 udp 2130706175 127.0.0.1 51000 typ host generation 0",
    ]);
    expect(lines).toContain("a=end-of-candidates");
    expect(out.endsWith("\r\n")).toBe(true);
    expect(out).not.toContain("192.168.1.20");
  });

  it("rewriteCandidate: drops raddr/rport and keeps the bare trickle form", () => {
    const srflxRoute = { target: { address: "203.0.113.7", port: 50000 }, relay: { address: "127.0.0.1", port: 51000 } };
    expect(rewriteCandidate("candidate:4 1 udp 1694498815 203.0.113.7 50000 typ srflx raddr 192.168.1.20 rport 40001 generation 0", srflxRoute))
      .toBe("candidate:4 1 udp 1694498815 127.0.0.1 51000 typ host generation 0");
    expect(rewriteCandidate("candidate:1 1 udp 1 192.168.1.20 40001 typ host", route)).toBeUndefined();
  });

  it("stripSdpCandidates removes every candidate and end-of-candidates; findCandidate finds the loopback one", () => {
    expect(stripSdpCandidates(SDP)).not.toContain("a=candidate:");
    expect(stripSdpCandidates(SDP)).not.toContain("a=end-of-candidates");
    expect(stripSdpCandidates(SDP)).toContain("m=application 9");
    expect(findCandidate(SDP, { address: "127.0.0.1", transport: "udp" })?.port).toBe(40002);
    expect(findCandidate(SDP, { address: "10.0.0.1" })).toBeUndefined();
  });
});
