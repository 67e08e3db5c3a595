/**
 * Network conditions of the network benchmark: an uplink (the bottleneck: a mahimahi trace or a
 * fixed rate, random loss, a drop-tail queue) and a loss-free downlink for RTCP, each with half the
 * round trip as its one-way delay.
 *
 * Parsed from short flags (`--condition trace:verizon-lte,rtt=100`, `--condition loss=0.05,rtt=100`)
 * into the flat link input of sfu/link (`parseLinkConfig`), so every range check is the link
 * emulator's own and every error is a `LinkError` naming the field (`condition.rtt`,
 * `condition.loss`, `condition.trace`).
 */
import { LinkError, parseLinkConfig, type LinkConfigInput, type ResolvedLinkConfig, stationaryLossRate } from "../../sfu/link/index.ts";

export interface NetworkConditionSpec {
  /** Short name for tables and JSON, e.g. "verizon-lte-rtt100", "loss5-rtt100". */
  readonly name: string;
  readonly rttMs: number;
  /** The sender-to-receiver direction (media, retransmissions). */
  readonly uplink: ResolvedLinkConfig;
  /** The receiver-to-sender direction (RTCP NACK and PLI): half the RTT, no loss, no bottleneck. */
  readonly downlink: ResolvedLinkConfig;
  /**
   * The packet loss the sender knows of, as its receiver reports would tell it after a few seconds
   * (sfu/publisher/loss-resilience.ts smooths them): the configured random loss. Queue drops on a
   * trace are not known in advance and count as 0 here.
   */
  readonly knownLossRate: number;
  /** The flat input it came from, printed with the configuration. */
  readonly input: LinkConfigInput;
}

/**
 * Fixed rate of the loss conditions: 20 Mbps, far above the media rate, so only the random loss
 * and the delay act (the "independent loss" conditions have no bottleneck).
 */
export const LOSS_CONDITION_RATE_BPS = 20_000_000;

/**
 * Drop-tail queue of every uplink, in packets. mahimahi's default queue is unbounded; 300 packets
 * (about 450 KB) is the size sfu/link's README uses for its Verizon example: deep enough to ride
 * out most trace dips at media rates, so delay, not drops, is what a dip costs.
 */
export const DEFAULT_QUEUE_PACKETS = 300;

/**
 * Drop-tail queue of trace conditions that give none: 30 packets, as Artic's mahimahi setup
 * (`--uplink-queue=droptail --uplink-queue-args=packets=30`). A cellular uplink's buffer is
 * shallow enough that a sender over the capacity loses packets within a second or so, not only
 * time; bench:network's `--queue` changes it.
 */
export const TRACE_QUEUE_PACKETS = 30;

export interface ConditionDefaults {
  /** Queue of trace conditions without a `queue` of their own. Default TRACE_QUEUE_PACKETS. */
  readonly traceQueuePackets?: number;
}

export interface ConditionParts {
  readonly name?: string;
  readonly trace?: string;
  readonly rateBps?: number;
  readonly loss?: number;
  readonly rttMs: number;
  readonly queuePackets?: number;
}

const FIELD = "condition";

function bad(field: string, message: string): LinkError {
  return new LinkError("INVALID_CONFIG", `${FIELD}.${field}`, message);
}

/** Builds a condition from its parts; throws `LinkError` naming the field. */
export function makeCondition(parts: ConditionParts, defaults: ConditionDefaults = {}): NetworkConditionSpec {
  const { rttMs } = parts;
  if (typeof rttMs !== "number" || !Number.isFinite(rttMs) || rttMs < 0) {
    throw bad("rtt", `${FIELD}.rtt must be a finite round-trip time in ms >= 0, got ${String(rttMs)}`);
  }
  const input: LinkConfigInput = {
    ...(parts.trace !== undefined ? { trace: parts.trace } : { rateBps: parts.rateBps ?? LOSS_CONDITION_RATE_BPS }),
    delayMs: rttMs / 2,
    ...(parts.loss !== undefined ? { loss: parts.loss } : {}),
    queuePackets: parts.queuePackets ?? (parts.trace !== undefined ? defaults.traceQueuePackets ?? TRACE_QUEUE_PACKETS : DEFAULT_QUEUE_PACKETS),
  };
  if (parts.trace !== undefined && parts.rateBps !== undefined) {
    throw bad("rate", `${FIELD}: give a trace or a rate, not both (a trace sets the rate)`);
  }
  const uplink = parseLinkConfig(input, { field: FIELD });
  const downlink = parseLinkConfig({ delayMs: rttMs / 2 }, { field: `${FIELD}.downlink` });
  const lossPart = parts.loss !== undefined && parts.loss > 0 ? `loss${Math.round(parts.loss * 1000) / 10}` : "";
  const ratePart = parts.trace !== undefined ? traceLabel(parts.trace) : "";
  const name = parts.name ?? [ratePart, lossPart, `rtt${rttMs}`].filter(Boolean).join("-");
  return { name, rttMs, uplink, downlink, knownLossRate: stationaryLossRate(uplink.loss), input };
}

function traceLabel(trace: string): string {
  const base = trace.split(/[\\/]/).pop() ?? trace;
  return base.replace(/\.[^.]*$/, "");
}

/**
 * Issue 13's conditions: two capacity-limited cellular uplinks of the repository (Verizon EVDO
 * and AT&T LTE, driving) at 100 ms RTT with a shallow queue, and 5%, 10% and 15% independent loss
 * at 100, 100 and 150 ms RTT.
 */
export function defaultConditions(defaults: ConditionDefaults = {}): NetworkConditionSpec[] {
  return [
    makeCondition({ name: "verizon-evdo-driving-rtt100", trace: "verizon-evdo-driving", rttMs: 100 }, defaults),
    makeCondition({ name: "att-lte-driving-rtt100", trace: "att-lte-driving", rttMs: 100 }, defaults),
    makeCondition({ name: "loss5-rtt100", loss: 0.05, rttMs: 100 }, defaults),
    makeCondition({ name: "loss10-rtt100", loss: 0.1, rttMs: 100 }, defaults),
    makeCondition({ name: "loss15-rtt150", loss: 0.15, rttMs: 150 }, defaults),
  ];
}

const KEYS = ["trace", "rtt", "loss", "rate", "queue", "name"] as const;

function number(field: string, raw: string, what: string): number {
  const v = raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(v)) throw bad(field, `${FIELD}.${field} must be ${what}, got ${JSON.stringify(raw)}`);
  return v;
}

/**
 * Parses one `--condition` value: comma-separated `key=value` items (`trace:NAME` is accepted for
 * `trace=NAME`). Keys: trace (a shipped trace name or a mahimahi file), rate (bits per second, when
 * no trace), loss (independent loss probability, 0..1), rtt (round trip, ms; required), queue
 * (drop-tail limit, packets), name.
 */
export function parseCondition(text: string, defaults: ConditionDefaults = {}): NetworkConditionSpec {
  if (text.trim() === "") throw new LinkError("INVALID_CONFIG", FIELD, `${FIELD} is empty; expected e.g. "trace:verizon-lte,rtt=100" or "loss=0.05,rtt=100"`);
  const seen = new Map<string, string>();
  for (const item of text.split(",")) {
    const m = /^\s*([a-z]+)\s*[=:]\s*(.*?)\s*$/i.exec(item);
    if (!m) throw new LinkError("INVALID_CONFIG", FIELD, `${FIELD}: "${item}" is not key=value; expected keys ${KEYS.join(", ")}`);
    const key = m[1]!.toLowerCase();
    if (!(KEYS as readonly string[]).includes(key)) {
      throw bad(key, `${FIELD}: unknown key "${key}"; expected one of ${KEYS.join(", ")}`);
    }
    if (seen.has(key)) throw bad(key, `${FIELD}.${key} is given twice`);
    seen.set(key, m[2]!);
  }
  const rtt = seen.get("rtt");
  if (rtt === undefined) throw bad("rtt", `${FIELD}.rtt is missing: give the round trip in ms, e.g. rtt=100`);
  const trace = seen.get("trace");
  if (trace !== undefined && trace === "") throw bad("trace", `${FIELD}.trace is empty: give a trace name or a mahimahi trace file`);
  const name = seen.get("name");
  const parts: ConditionParts = {
    rttMs: number("rtt", rtt, "a round-trip time in ms"),
    ...(trace !== undefined ? { trace } : {}),
    ...(seen.has("rate") ? { rateBps: number("rate", seen.get("rate")!, "a rate in bits per second") } : {}),
    ...(seen.has("loss") ? { loss: number("loss", seen.get("loss")!, "a loss probability in [0, 1]") } : {}),
    ...(seen.has("queue") ? { queuePackets: number("queue", seen.get("queue")!, "a queue limit in packets") } : {}),
    ...(name ? { name } : {}),
  };
  if (parts.loss !== undefined && !(parts.loss >= 0 && parts.loss <= 1)) {
    throw bad("loss", `${FIELD}.loss must be a probability in [0, 1], got ${parts.loss}`);
  }
  return makeCondition(parts, defaults);
}
