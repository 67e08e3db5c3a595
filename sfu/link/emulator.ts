/**
 * One direction of an emulated link, as a pure state machine: `send` decides a packet's fate the
 * moment it enters, `poll` hands out packets whose delivery time has come, `nextEventMs` tells the
 * shell when to poll next. The clock is the `nowMs` argument and randomness comes from `seed`, so
 * the same calls give the same deliveries.
 *
 * Order of effects, as mahimahi's shells nested `mm-delay` > `mm-link` > `mm-loss` apply them:
 *   1. loss at entry (Bernoulli or Gilbert-Elliott; loss.ts), so a lost packet takes no queue space;
 *   2. the drop-tail bottleneck queue (queue.ts), drained at the link's rate or trace (bottleneck.ts);
 *   3. the one-way propagation delay plus jitter, which never reorders (config.ts `jitterMs`).
 * Because service is first come, first served and time only moves forward, a packet's departure
 * and delivery times are known at `send`; they are returned there and again at delivery.
 */
import { mulberry32, type Rng } from "../../encoder/synth/prng.ts";
import { makeBottleneck, type Bottleneck } from "./bottleneck.ts";
import { type LinkConfig, resolveLinkConfig, type ResolvedLinkConfig } from "./config.ts";
import { LinkError } from "./errors.ts";
import { type LossProcess, makeLossProcess } from "./loss.ts";
import { DropTailQueue } from "./queue.ts";

export interface LinkEmulatorOptions {
  /** Seeds the loss and jitter draws (integer; same seed, same pattern). */
  readonly seed: number;
  /** The trace's time 0 on the caller's clock. Default 0. */
  readonly startMs?: number;
  /** Prefix for field names in config errors, e.g. "uplink" gives "uplink.delayMs". */
  readonly field?: string;
}

export type DropReason = "loss" | "queue-full";

export type SendResult =
  | { readonly accepted: true; readonly id: number; readonly departureMs: number; readonly deliveryMs: number }
  | { readonly accepted: false; readonly id: number; readonly reason: DropReason };

export interface DeliveredPacket<T> {
  /** Order of entry, from 0, counting dropped packets too. */
  readonly id: number;
  readonly payload: T | undefined;
  readonly sizeBytes: number;
  readonly sentMs: number;
  /** When the last byte left the bottleneck. */
  readonly departureMs: number;
  /** When it reaches the far end: departure + delay + jitter, never before an earlier packet. */
  readonly deliveryMs: number;
}

export interface LinkCounters {
  packetsIn: number;
  bytesIn: number;
  packetsDelivered: number;
  bytesDelivered: number;
  packetsLost: number;
  bytesLost: number;
  packetsQueueDropped: number;
  bytesQueueDropped: number;
  /** Accepted and not yet handed out by `poll`. */
  packetsInFlight: number;
}

/** Golden-ratio constant: gives the jitter stream its own seed, so turning jitter on leaves the loss pattern as it was. */
const JITTER_SEED_MIX = 0x9e3779b9;

export class LinkEmulator<T = undefined> {
  readonly config: ResolvedLinkConfig;
  private readonly loss: LossProcess;
  private readonly jitterRng: Rng;
  private readonly bottleneck: Bottleneck;
  private readonly queue: DropTailQueue;
  private readonly inFlight: DeliveredPacket<T>[] = [];
  private head = 0;
  private lastSendMs = -Infinity;
  private lastDeliveryMs = -Infinity;
  private nextId = 0;
  private readonly c: LinkCounters = {
    packetsIn: 0, bytesIn: 0, packetsDelivered: 0, bytesDelivered: 0, packetsLost: 0, bytesLost: 0,
    packetsQueueDropped: 0, bytesQueueDropped: 0, packetsInFlight: 0,
  };

  constructor(config: LinkConfig, options: LinkEmulatorOptions) {
    this.config = resolveLinkConfig(config, options.field ? `${options.field}.` : "");
    if (!Number.isSafeInteger(options.seed)) {
      throw new LinkError("INVALID_CONFIG", "seed", `seed must be an integer, got ${String(options.seed)}`);
    }
    const startMs = options.startMs ?? 0;
    if (!Number.isFinite(startMs)) {
      throw new LinkError("INVALID_CONFIG", "startMs", `startMs must be a finite number of milliseconds, got ${String(startMs)}`);
    }
    this.loss = makeLossProcess(this.config.loss, mulberry32(options.seed));
    this.jitterRng = mulberry32((options.seed ^ JITTER_SEED_MIX) >>> 0);
    this.bottleneck = makeBottleneck(this.config.rate, startMs);
    this.queue = new DropTailQueue(this.config.queue);
  }

  /**
   * A packet of `sizeBytes` enters the link at `nowMs`. Calls must come in time order (a clock
   * that goes backwards is an `INVALID_ARGUMENT` error); `payload` comes back with the delivery.
   * `lossFree`: the packet skips the random loss (and draws nothing from its generator), for a
   * simulation's warm-up traffic, so that runs with and without it see the same loss on the
   * packets that count (common random numbers); it still queues and can be dropped by the queue.
   */
  send(sizeBytes: number, nowMs: number, payload?: T, options: { readonly lossFree?: boolean } = {}): SendResult {
    if (!Number.isInteger(sizeBytes) || sizeBytes < 0) {
      throw new LinkError("INVALID_ARGUMENT", "sizeBytes", `sizeBytes must be a whole number >= 0, got ${String(sizeBytes)}`);
    }
    if (!Number.isFinite(nowMs) || nowMs < this.lastSendMs) {
      throw new LinkError("INVALID_ARGUMENT", "nowMs",
        `nowMs must be finite and not earlier than the previous send (${this.lastSendMs} ms), got ${String(nowMs)}`);
    }
    this.lastSendMs = nowMs;
    const id = this.nextId++;
    this.c.packetsIn++;
    this.c.bytesIn += sizeBytes;

    if (options.lossFree !== true && this.loss.lose()) {
      this.c.packetsLost++;
      this.c.bytesLost += sizeBytes;
      return { accepted: false, id, reason: "loss" };
    }
    this.queue.expire(nowMs);
    if (!this.queue.fits(sizeBytes)) {
      this.c.packetsQueueDropped++;
      this.c.bytesQueueDropped += sizeBytes;
      return { accepted: false, id, reason: "queue-full" };
    }
    const { startMs, departureMs } = this.bottleneck.admit(sizeBytes, nowMs);
    if (startMs > nowMs) this.queue.push(startMs, sizeBytes);

    const { delayMs, jitterMs } = this.config;
    const jittered = departureMs + delayMs + (jitterMs > 0 ? this.jitterRng() * jitterMs : 0);
    // No reordering: a packet never overtakes the one before it (see config.ts `jitterMs`).
    const deliveryMs = Math.max(jittered, this.lastDeliveryMs);
    this.lastDeliveryMs = deliveryMs;
    this.inFlight.push({ id, payload, sizeBytes, sentMs: nowMs, departureMs, deliveryMs });
    this.c.packetsInFlight++;
    return { accepted: true, id, departureMs, deliveryMs };
  }

  /** Packets whose delivery time is <= `nowMs`, in order, each with its own delivery time. */
  poll(nowMs: number): DeliveredPacket<T>[] {
    const out: DeliveredPacket<T>[] = [];
    while (this.head < this.inFlight.length && this.inFlight[this.head]!.deliveryMs <= nowMs) {
      const p = this.inFlight[this.head++]!;
      out.push(p);
      this.c.packetsDelivered++;
      this.c.bytesDelivered += p.sizeBytes;
      this.c.packetsInFlight--;
    }
    if (this.head > 1024 && this.head * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }

  /** Delivery time of the next packet in flight, or undefined when none is. */
  nextEventMs(): number | undefined {
    return this.inFlight[this.head]?.deliveryMs;
  }

  /** Packets waiting in the bottleneck queue at the last `send` (not yet transmitting). */
  get queuedPackets(): number {
    return this.queue.packets;
  }

  counters(): LinkCounters {
    return { ...this.c };
  }
}
