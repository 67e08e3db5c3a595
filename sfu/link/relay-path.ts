/**
 * Puts the UDP relay (udp-relay.ts) on a WebRTC client's media path through its signalling, with
 * the client unchanged: a signalling proxy (signaling-proxy.ts) rewrites the server's 127.0.0.1
 * UDP candidate in its answer (and any trickled candidate) to the relay's address, drops every
 * other server candidate, and strips the client's candidates from its offer and its trickled ones,
 * so the server learns the client only from checks that came through the relay. The relay is
 * started at the first answer, aimed at the server's media port. Works for the headless publisher
 * (ws URL) and for a browser (the page loaded from the proxy's origin, `httpUpstream`).
 */
import { findCandidate, parseCandidate, rewriteCandidate, rewriteSdpCandidates, stripSdpCandidates, type Endpoint } from "./ice-rewrite.ts";
import type { LinkConfig } from "./config.ts";
import { type JsonMessage, SignalingProxy } from "./signaling-proxy.ts";
import { UdpRelay } from "./udp-relay.ts";

export interface RelayPathOptions {
  /** The server's signalling URL (ws://127.0.0.1:PORT/ws). */
  readonly upstream: string;
  /** The server's HTTP origin, for a browser that loads the page through the proxy. */
  readonly httpUpstream?: string;
  readonly uplink: LinkConfig;
  readonly downlink: LinkConfig;
  readonly seed: number;
}

/** What the proxy did to the candidates. */
export interface RelayIceCounts {
  serverCandidates: number;
  kept: number;
  dropped: number;
  trickled: number;
  trickledKept: number;
  offerCandidatesStripped: number;
  keptAddresses: string[];
}

export class RelayPath {
  readonly ice: RelayIceCounts = { serverCandidates: 0, kept: 0, dropped: 0, trickled: 0, trickledKept: 0, offerCandidatesStripped: 0, keptAddresses: [] };
  /** Errors of the proxy's transforms (a test expects none). */
  readonly errors: unknown[] = [];
  private relayed: UdpRelay | null = null;
  private route: { target: Endpoint; relay: Endpoint } | null = null;
  private proxy: SignalingProxy | null = null;

  private constructor(private readonly o: RelayPathOptions) {}

  static async start(o: RelayPathOptions): Promise<RelayPath> {
    const path = new RelayPath(o);
    path.proxy = await SignalingProxy.start({
      upstream: o.upstream,
      ...(o.httpUpstream !== undefined ? { httpUpstream: o.httpUpstream } : {}),
      onError: (e) => path.errors.push(e),
      toServer: (msg) => path.toServer(msg),
      toClient: (msg) => path.toClient(msg),
    });
    return path;
  }

  /** The signalling URL for the client. */
  get url(): string {
    return this.proxy!.url;
  }

  /** The HTTP origin for a browser (with `httpUpstream`). */
  get origin(): string {
    return this.proxy!.origin;
  }

  /** The relay; throws before the server's answer has passed the proxy. */
  relay(): UdpRelay {
    if (!this.relayed) throw new Error("no relay: the server's answer never passed the proxy");
    return this.relayed;
  }

  async close(): Promise<void> {
    await this.proxy?.close();
    await this.relayed?.close();
  }

  private toServer(msg: JsonMessage): JsonMessage | null {
    if (msg.type === "offer" && typeof msg.sdp === "string") {
      this.ice.offerCandidatesStripped += (msg.sdp.match(/^a=candidate:/gm) ?? []).length;
      return { ...msg, sdp: stripSdpCandidates(msg.sdp) };
    }
    // A client candidate would let the server reach it around the relay.
    if (msg.type === "ice") return null;
    return msg;
  }

  private async toClient(msg: JsonMessage): Promise<JsonMessage | null> {
    const ice = this.ice;
    if (msg.type === "answer" && typeof msg.sdp === "string") {
      const target = findCandidate(msg.sdp, { address: "127.0.0.1", transport: "udp" });
      if (!target) throw new Error(`the server's answer has no 127.0.0.1 UDP candidate:\n${msg.sdp}`);
      if (!this.relayed) {
        this.relayed = await UdpRelay.start({ target: { address: target.address, port: target.port }, uplink: this.o.uplink, downlink: this.o.downlink, seed: this.o.seed });
      }
      this.route = { target: { address: target.address, port: target.port }, relay: this.relayed.address };
      const sdp = rewriteSdpCandidates(msg.sdp, this.route);
      ice.serverCandidates += (msg.sdp.match(/^a=candidate:/gm) ?? []).length;
      const kept = [...sdp.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+)/gm)].map((k) => `${k[1]}:${k[2]}`);
      ice.kept += kept.length;
      ice.keptAddresses.push(...kept);
      ice.dropped = ice.serverCandidates - ice.kept;
      return { ...msg, sdp };
    }
    if (msg.type === "ice") {
      // Trickled server candidates (this server sends its answer complete, but a trickling one
      // would come here): the relayed one is rewritten, every other one dropped.
      const c = msg.candidate as { candidate: string } | null;
      if (c === null) return msg; // end of candidates
      ice.trickled++;
      const rewritten = this.route ? rewriteCandidate(c.candidate, this.route) : undefined;
      if (rewritten === undefined) return null;
      ice.trickledKept++;
      const k = parseCandidate(rewritten);
      if (k) ice.keptAddresses.push(`${k.address}:${k.port}`);
      return { ...msg, candidate: { ...c, candidate: rewritten } };
    }
    return msg;
  }
}
