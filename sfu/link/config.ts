/**
 * What one direction of an emulated link does to packets, in the order mahimahi's shells apply
 * them when nested as `mm-loss` inside `mm-link` inside `mm-delay`: random loss at entry, then a
 * bottleneck queue drained at the link's rate (fixed or trace), then a propagation delay. All
 * durations are one-way milliseconds; a 100 ms round trip is 50 ms on each direction's config.
 */
import { LinkError, requireNonNegative, requirePositive, requireProbability } from "./errors.ts";
import type { Trace } from "./trace.ts";

/** How fast the bottleneck drains. */
export type LinkRate =
  /** No bottleneck: packets leave the queue the moment they enter. */
  | { readonly kind: "unlimited" }
  /** A constant-rate server: a packet of S bytes occupies the link for S * 8 / bitsPerSecond s. */
  | { readonly kind: "fixed"; readonly bitsPerSecond: number }
  /** A mahimahi trace, repeated (see trace.ts). */
  | { readonly kind: "trace"; readonly trace: Trace };

/**
 * Random loss applied as packets enter the link, before the queue (a lost packet takes no queue
 * space), like mm-loss's IID model placed in front of mm-link.
 */
export type LossModel =
  | { readonly kind: "none" }
  /** Independent loss: each packet is lost with probability `p`. */
  | { readonly kind: "bernoulli"; readonly p: number }
  /**
   * Gilbert-Elliott two-state loss (E. N. Gilbert, "Capacity of a burst-noise channel", Bell Syst.
   * Tech. J. 39, 1960; E. O. Elliott, "Estimates of error rates for codes on burst-noise channels",
   * Bell Syst. Tech. J. 42, 1963). A Markov chain steps once per packet; in each state a packet is
   * lost with that state's probability. Defaults: `lossInGood` 0, `lossInBad` 1 (Gilbert's model).
   */
  | {
      readonly kind: "gilbert-elliott";
      /** Probability of moving from good to bad after a packet (often written p). */
      readonly pGoodToBad: number;
      /** Probability of moving from bad to good after a packet (often written r). */
      readonly pBadToGood: number;
      readonly lossInGood?: number;
      readonly lossInBad?: number;
    };

/**
 * Drop-tail bottleneck queue (mahimahi's `--uplink-queue=droptail`). The limit counts packets
 * waiting to start transmission; a packet part-way through transmission has left the queue, as in
 * mahimahi's DroppingPacketQueue (whose count excludes `packet_in_transit_`) and Linux qdiscs.
 */
export type QueueLimit =
  | { readonly kind: "unlimited" }
  | { readonly kind: "packets"; readonly packets: number }
  | { readonly kind: "bytes"; readonly bytes: number };

export interface LinkConfig {
  /** Default unlimited. */
  readonly rate?: LinkRate;
  /** One-way propagation delay added after the bottleneck. Default 0. */
  readonly delayMs?: number;
  /**
   * Extra delay drawn uniformly from [0, jitterMs] per packet, on top of `delayMs` (so `delayMs`
   * stays a floor). Never reorders: a packet is never delivered before the one sent before it (its
   * delivery time is raised to the previous one's), like netem with a FIFO child qdisc rather than
   * netem's default time-sorted queue, because real cellular uplinks deliver in order. Default 0.
   */
  readonly jitterMs?: number;
  /** Default none. */
  readonly loss?: LossModel;
  /** Default unlimited (mahimahi's default infinite queue). */
  readonly queue?: QueueLimit;
}

/** A config with every default filled in, after validation. */
export interface ResolvedLinkConfig {
  readonly rate: LinkRate;
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly loss: LossModel;
  readonly queue: QueueLimit;
}

/**
 * Checks every field and fills in defaults. Throws `LinkError` (`INVALID_CONFIG`) naming the field:
 * negative delay or jitter, a probability outside [0, 1], a rate <= 0, a queue limit < 1.
 */
export function resolveLinkConfig(config: LinkConfig, prefix = ""): ResolvedLinkConfig {
  const f = (name: string) => prefix + name;
  const rate = config.rate ?? { kind: "unlimited" };
  switch (rate.kind) {
    case "unlimited":
      break;
    case "fixed":
      requirePositive(f("rate.bitsPerSecond"), rate.bitsPerSecond, "bits per second");
      break;
    case "trace":
      if (!rate.trace || !(rate.trace.opportunitiesMs instanceof Float64Array) || !(rate.trace.periodMs > 0)) {
        throw new LinkError("INVALID_CONFIG", f("rate.trace"), `${f("rate.trace")} must be a trace from parseTrace() or loadTrace()`);
      }
      break;
    default:
      throw new LinkError("INVALID_CONFIG", f("rate.kind"), `${f("rate.kind")} must be "unlimited", "fixed" or "trace", got ${JSON.stringify((rate as { kind: unknown }).kind)}`);
  }
  const delayMs = config.delayMs ?? 0;
  requireNonNegative(f("delayMs"), delayMs, "milliseconds");
  const jitterMs = config.jitterMs ?? 0;
  requireNonNegative(f("jitterMs"), jitterMs, "milliseconds");

  let loss: LossModel = config.loss ?? { kind: "none" };
  switch (loss.kind) {
    case "none":
      break;
    case "bernoulli":
      requireProbability(f("loss.p"), loss.p);
      break;
    case "gilbert-elliott": {
      requireProbability(f("loss.pGoodToBad"), loss.pGoodToBad);
      requireProbability(f("loss.pBadToGood"), loss.pBadToGood);
      const lossInGood = loss.lossInGood ?? 0;
      const lossInBad = loss.lossInBad ?? 1;
      requireProbability(f("loss.lossInGood"), lossInGood);
      requireProbability(f("loss.lossInBad"), lossInBad);
      if (loss.pGoodToBad > 0 && loss.pBadToGood === 0) {
        // Not invalid maths, but the chain would stick in the bad state forever: almost surely a typo.
        throw new LinkError("INVALID_CONFIG", f("loss.pBadToGood"),
          `${f("loss.pBadToGood")} is 0 while ${f("loss.pGoodToBad")} is > 0, so the link would stay in the bad state for good; give r > 0`);
      }
      loss = { ...loss, lossInGood, lossInBad };
      break;
    }
    default:
      throw new LinkError("INVALID_CONFIG", f("loss.kind"), `${f("loss.kind")} must be "none", "bernoulli" or "gilbert-elliott", got ${JSON.stringify((loss as { kind: unknown }).kind)}`);
  }

  const queue = config.queue ?? { kind: "unlimited" };
  switch (queue.kind) {
    case "unlimited":
      break;
    case "packets":
      requireQueueLimit(f("queue.packets"), queue.packets, "packets");
      break;
    case "bytes":
      requireQueueLimit(f("queue.bytes"), queue.bytes, "bytes");
      break;
    default:
      throw new LinkError("INVALID_CONFIG", f("queue.kind"), `${f("queue.kind")} must be "unlimited", "packets" or "bytes", got ${JSON.stringify((queue as { kind: unknown }).kind)}`);
  }
  return { rate, delayMs, jitterMs, loss, queue };
}

function requireQueueLimit(field: string, value: number, unit: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new LinkError("INVALID_CONFIG", field,
      `${field} must be a whole number of ${unit} >= 1 (a zero-size queue would drop everything; omit the limit for an unlimited queue), got ${String(value)}`);
  }
}

/** Long-run loss ratio of a loss model: p, or the Gilbert-Elliott chain's stationary mix. */
export function stationaryLossRate(loss: LossModel): number {
  switch (loss.kind) {
    case "none":
      return 0;
    case "bernoulli":
      return loss.p;
    case "gilbert-elliott": {
      const p = loss.pGoodToBad;
      const r = loss.pBadToGood;
      if (p + r === 0) return loss.lossInGood ?? 0; // never leaves the good state it starts in
      // Stationary distribution of the two-state chain: P(bad) = p / (p + r).
      const bad = p / (p + r);
      return (1 - bad) * (loss.lossInGood ?? 0) + bad * (loss.lossInBad ?? 1);
    }
  }
}
