/**
 * Steering ICE through the UDP relay. The peer behind the relay must see only the relay's address:
 * each of the target's candidates that the relay forwards to is rewritten to the relay's address
 * and port, and every other candidate is dropped, since a pair built on it would bypass the relay.
 * Candidate grammar: RFC 8839 §5.1 (`candidate:<foundation> <component> <transport> <priority>
 * <address> <port> typ <type> [raddr <a> rport <p>] *(<name> <value>)`).
 *
 * Only `a=candidate` lines matter: ICE agents (werift, browsers) ignore the `c=` line's address for
 * connectivity, so it is left as is.
 */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface ParsedCandidate {
  readonly foundation: string;
  readonly component: number;
  /** Lower case: "udp" or "tcp". */
  readonly transport: string;
  readonly priority: number;
  readonly address: string;
  readonly port: number;
  readonly type: string;
}

const CANDIDATE = /^(?:a=)?candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ (\S+)/i;

/** Parses a candidate line (`a=candidate:...` or the bare `candidate:...` of trickle ICE). */
export function parseCandidate(line: string): ParsedCandidate | undefined {
  const m = CANDIDATE.exec(line.trim());
  if (!m) return undefined;
  return {
    foundation: m[1]!, component: Number(m[2]), transport: m[3]!.toLowerCase(), priority: Number(m[4]),
    address: m[5]!, port: Number(m[6]), type: m[7]!,
  };
}

export interface RelayRoute {
  /** The address the relay forwards to (one of the hidden peer's UDP candidates). */
  readonly target: Endpoint;
  /** The relay's listening address, to be shown instead. */
  readonly relay: Endpoint;
}

/**
 * Rewrites one candidate for the peer in front of the relay: the target's UDP candidate becomes a
 * host candidate on the relay's address (raddr/rport dropped: they would name the hidden address);
 * any other candidate gives undefined, meaning drop it. `a=` and line-ending shape are kept.
 */
export function rewriteCandidate(line: string, route: RelayRoute): string | undefined {
  const c = parseCandidate(line);
  if (!c || c.transport !== "udp" || c.address !== route.target.address || c.port !== route.target.port) return undefined;
  const prefix = line.trimStart().toLowerCase().startsWith("a=") ? "a=" : "";
  const rest = extensions(line);
  return `${prefix}candidate:${c.foundation} ${c.component} udp ${c.priority} ${route.relay.address} ${route.relay.port} typ host${rest}`;
}

/** Rewrites every `a=candidate` line of an SDP with `rewriteCandidate`, dropping the ones it refuses. */
export function rewriteSdpCandidates(sdp: string, route: RelayRoute): string {
  return mapCandidateLines(sdp, (line) => rewriteCandidate(line, route));
}

/**
 * Removes every candidate, and `a=end-of-candidates`, from an SDP. Given to the hidden peer, it
 * makes that peer learn the other side only as a peer-reflexive candidate from the checks the relay
 * forwards (RFC 8445 §7.3.1.3), so it never sends around the relay. The end-of-candidates line goes
 * too: with it and no candidates, an agent has nothing to check and fails ICE at once (werift does);
 * without it, the agent keeps waiting and answers the incoming checks.
 */
export function stripSdpCandidates(sdp: string): string {
  return mapCandidateLines(sdp, () => undefined, true);
}

/** The first candidate in an SDP matching the filter (e.g. the 127.0.0.1 UDP host candidate). */
export function findCandidate(sdp: string, filter: { address?: string; transport?: string; type?: string } = {}): ParsedCandidate | undefined {
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith("a=candidate:")) continue;
    const c = parseCandidate(line);
    if (!c) continue;
    if (filter.address !== undefined && c.address !== filter.address) continue;
    if (filter.transport !== undefined && c.transport !== filter.transport.toLowerCase()) continue;
    if (filter.type !== undefined && c.type !== filter.type) continue;
    return c;
  }
  return undefined;
}

function mapCandidateLines(sdp: string, fn: (line: string) => string | undefined, dropEnd = false): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const out: string[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (dropEnd && line === "a=end-of-candidates") continue;
    if (!line.startsWith("a=candidate:")) {
      out.push(line);
      continue;
    }
    const rewritten = fn(line);
    if (rewritten !== undefined) out.push(rewritten);
  }
  return out.join(eol);
}

/** Everything after `typ <type>`, without raddr/rport. */
function extensions(line: string): string {
  const tokens = line.trim().split(/\s+/);
  const typ = tokens.indexOf("typ");
  const rest = tokens.slice(typ + 2);
  const kept: string[] = [];
  for (let i = 0; i + 1 < rest.length; i += 2) {
    if (rest[i] === "raddr" || rest[i] === "rport") continue;
    kept.push(rest[i]!, rest[i + 1]!);
  }
  return kept.length ? ` ${kept.join(" ")}` : "";
}
