/**
 * A UDP relay on loopback that puts an emulated link between two real peers (a browser or werift
 * client in front, e.g. the werift server's ICE port behind), since this kernel has no netem.
 *
 *   client ──► [listen socket] ──uplink LinkPipe──► [flow socket] ──► target
 *   client ◄── [listen socket] ◄─downlink LinkPipe─ [flow socket] ◄── target
 *
 * Each client source address gets its own flow socket toward the target, like a NAT mapping, so
 * the target's replies find their way back to the right client address (ICE checks from several
 * client candidates stay apart). All flows share one uplink and one downlink emulator: the link,
 * its queue and its loss are one bottleneck per direction, whatever the number of flows.
 * Only datagrams from the target are relayed back; others reaching a flow socket are counted and
 * ignored.
 *
 * Use `rewriteSdpCandidates` (ice-rewrite.ts) so the client sees only `relay.address`.
 */
import { createSocket, type Socket } from "node:dgram";
import { type LinkConfig, resolveLinkConfig } from "./config.ts";
import type { LinkCounters } from "./emulator.ts";
import { LinkError } from "./errors.ts";
import type { Endpoint } from "./ice-rewrite.ts";
import { LinkPipe } from "./pipe.ts";
import { type LinkTimer, realTimer } from "./timer.ts";

export interface UdpRelayOptions {
  /** Where the client's datagrams go (e.g. the server's 127.0.0.1 host candidate). */
  readonly target: Endpoint;
  /** Client -> target. Default: unlimited, no delay, no loss. */
  readonly uplink?: LinkConfig;
  /** Target -> client. Default: unlimited, no delay, no loss. */
  readonly downlink?: LinkConfig;
  /** Seeds the uplink; the downlink uses seed + 1, so the directions' loss patterns differ. */
  readonly seed: number;
  /** Address to listen on and to send from. Default "127.0.0.1". */
  readonly host?: string;
  /** Listening port. Default 0 (any free port). */
  readonly port?: number;
  /** Default `realTimer`. */
  readonly timer?: LinkTimer;
  /** Socket errors (e.g. a send to a closed port). The relay keeps going. */
  readonly onError?: (err: Error) => void;
}

export interface RelayCounters {
  readonly uplink: LinkCounters;
  readonly downlink: LinkCounters;
  /** Client source addresses seen. */
  readonly flows: number;
  /** Datagrams reaching a flow socket from somewhere other than the target; dropped. */
  readonly strayPackets: number;
  readonly socketErrors: number;
}

interface Flow {
  readonly client: Endpoint;
  readonly socket: Socket;
}

interface Datagram {
  readonly flow: Flow;
  readonly data: Buffer;
}

export class UdpRelay {
  /** Where the client should send: the relay's listening address. */
  readonly address: Endpoint;
  readonly target: Endpoint;
  private readonly listen: Socket;
  private readonly host: string;
  private readonly flows = new Map<string, Flow>();
  private readonly uplink: LinkPipe<Datagram>;
  private readonly downlink: LinkPipe<Datagram>;
  private readonly onError: (err: Error) => void;
  private stray = 0;
  private errors = 0;
  private closed = false;

  /** Binds the listening socket and returns the running relay. */
  static async start(options: UdpRelayOptions): Promise<UdpRelay> {
    validateEndpoint("target", options.target);
    if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
      throw new LinkError("INVALID_CONFIG", "port", `port must be a whole number in [0, 65535], got ${String(options.port)}`);
    }
    // Bad link configs fail here, before any socket exists.
    resolveLinkConfig(options.uplink ?? {}, "uplink.");
    resolveLinkConfig(options.downlink ?? {}, "downlink.");
    const host = options.host ?? "127.0.0.1";
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: host, port: options.port ?? 0 }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    return new UdpRelay(options, socket, host);
  }

  private constructor(options: UdpRelayOptions, listen: Socket, host: string) {
    this.listen = listen;
    this.host = host;
    this.target = { address: options.target.address, port: options.target.port };
    const bound = listen.address();
    this.address = { address: bound.address, port: bound.port };
    this.onError = options.onError ?? (() => {});
    const timer = options.timer ?? realTimer;
    // Made before any socket handler runs; if they still throw (a bad seed), the socket is closed.
    try {
      this.uplink = new LinkPipe<Datagram>({
        config: options.uplink ?? {}, seed: options.seed, timer, field: "uplink",
        deliver: ({ flow, data }) => this.sendFrom(flow.socket, data, this.target),
      });
      this.downlink = new LinkPipe<Datagram>({
        config: options.downlink ?? {}, seed: options.seed + 1, timer, field: "downlink",
        deliver: ({ flow, data }) => this.sendFrom(this.listen, data, flow.client),
      });
    } catch (err) {
      listen.close();
      throw err;
    }
    listen.on("message", (data, rinfo) => {
      if (this.closed) return;
      const flow = this.flowFor({ address: rinfo.address, port: rinfo.port });
      this.uplink.send({ flow, data }, data.byteLength);
    });
    listen.on("error", (err) => this.socketError(err));
  }

  counters(): RelayCounters {
    return {
      uplink: this.uplink.counters(),
      downlink: this.downlink.counters(),
      flows: this.flows.size,
      strayPackets: this.stray,
      socketErrors: this.errors,
    };
  }

  /** Stops both links (packets in flight are dropped) and closes every socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.uplink.close();
    this.downlink.close();
    const sockets = [this.listen, ...[...this.flows.values()].map((f) => f.socket)];
    this.flows.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    })));
  }

  private flowFor(client: Endpoint): Flow {
    const key = `${client.address}|${client.port}`;
    const existing = this.flows.get(key);
    if (existing) return existing;
    const socket = createSocket(this.host.includes(":") ? "udp6" : "udp4");
    const flow: Flow = { client, socket };
    // dgram queues sends made while the bind is in progress, so the first datagram is not lost.
    socket.bind({ address: this.host, port: 0 });
    socket.on("message", (data, rinfo) => {
      if (this.closed) return;
      if (rinfo.address !== this.target.address || rinfo.port !== this.target.port) {
        this.stray++;
        return;
      }
      this.downlink.send({ flow, data }, data.byteLength);
    });
    socket.on("error", (err) => this.socketError(err));
    this.flows.set(key, flow);
    return flow;
  }

  private sendFrom(socket: Socket, data: Buffer, to: Endpoint): void {
    if (this.closed) return;
    socket.send(data, to.port, to.address, (err) => {
      if (err) this.socketError(err);
    });
  }

  private socketError(err: Error): void {
    this.errors++;
    try {
      this.onError(err);
    } catch {
      // A throwing error handler must not take the relay down.
    }
  }
}

function validateEndpoint(field: string, e: Endpoint | undefined): void {
  if (!e || typeof e.address !== "string" || e.address === "") {
    throw new LinkError("INVALID_CONFIG", `${field}.address`, `${field}.address must be an IP address string, got ${String(e?.address)}`);
  }
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
    throw new LinkError("INVALID_CONFIG", `${field}.port`, `${field}.port must be a whole number in [1, 65535], got ${String(e.port)}`);
  }
}
