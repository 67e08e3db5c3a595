/**
 * Link configs from the edge: CLI flags and JSON condition files. The flat input names a trace (a
 * shipped name or a file) or a fixed rate, a one-way delay, a loss rate or model and a queue limit;
 * `parseLinkConfig` checks its shape with zod, loads the trace, then runs the same range checks as
 * the emulator. Every error is a `LinkError` naming the field (`"uplink.loss.pBadToGood"`).
 *
 * A round trip is two one-way delays: DeViBench's "100 ms RTT" is `delayMs: 50` on each direction.
 */
import * as z from "zod";
import { checkSchema } from "../protocol/parse.ts";
import { type LinkConfig, type LossModel, type QueueLimit, type LinkRate, resolveLinkConfig, type ResolvedLinkConfig } from "./config.ts";
import { LinkError } from "./errors.ts";
import { loadTrace as loadTraceFile } from "./trace-catalogue.ts";
import type { Trace } from "./trace.ts";

const lossObjectSchema = z.discriminatedUnion("model", [
  z.strictObject({ model: z.literal("bernoulli"), p: z.number() }),
  z.strictObject({
    model: z.literal("gilbert-elliott"),
    pGoodToBad: z.number(),
    pBadToGood: z.number(),
    lossInGood: z.number().optional(),
    lossInBad: z.number().optional(),
  }),
]);

const inputSchema = z.strictObject({
  /** A shipped trace name (see TRACE_NAMES) or a mahimahi trace file path. */
  trace: z.string().min(1).optional(),
  /** Fixed rate in bits per second (not with `trace`). Neither: unlimited. */
  rateBps: z.number().optional(),
  delayMs: z.number().optional(),
  jitterMs: z.number().optional(),
  /**
   * A number is a Bernoulli loss probability; else `{ model: "bernoulli", p }` or
   * `{ model: "gilbert-elliott", pGoodToBad, pBadToGood, lossInGood?, lossInBad? }`. Checked on its
   * own below, so an error points inside the object rather than at the whole union.
   */
  loss: z.unknown().optional(),
  queuePackets: z.number().optional(),
  queueBytes: z.number().optional(),
});

export type LinkConfigInput = Omit<z.infer<typeof inputSchema>, "loss"> & { loss?: number | z.infer<typeof lossObjectSchema> };

export interface ParseLinkConfigOptions {
  /** Prefix for field names in errors, e.g. "uplink". */
  readonly field?: string;
  /** How to turn `trace` into a Trace. Default: `loadTrace` (shipped names, else a file path). */
  readonly loadTrace?: (nameOrPath: string, field: string) => Trace;
}

/** Parses one direction's config from plain data; throws `LinkError` naming the bad field. */
export function parseLinkConfig(input: unknown, options: ParseLinkConfigOptions = {}): ResolvedLinkConfig {
  const prefix = options.field ? `${options.field}.` : "";
  // zod reports unknown keys on the object, not the key; name the key, since it is usually a typo.
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    const known = Object.keys(inputSchema.shape);
    for (const key of Object.keys(input)) {
      if (!known.includes(key)) {
        throw new LinkError("INVALID_CONFIG", prefix + key, `field "${prefix}${key}" is not a link setting; expected one of ${known.join(", ")}`);
      }
    }
  }
  const top = check(inputSchema, input, prefix);
  const v: LinkConfigInput = { ...top, loss: parseLoss(top.loss, prefix) };

  if (v.trace !== undefined && v.rateBps !== undefined) {
    throw new LinkError("INVALID_CONFIG", `${prefix}rateBps`,
      `${prefix}rateBps and ${prefix}trace both set the link's rate; give one (a trace already sets the rate)`);
  }
  if (v.queuePackets !== undefined && v.queueBytes !== undefined) {
    throw new LinkError("INVALID_CONFIG", `${prefix}queueBytes`, `${prefix}queuePackets and ${prefix}queueBytes are both set; give one queue limit`);
  }

  let rate: LinkRate = { kind: "unlimited" };
  if (v.trace !== undefined) rate = { kind: "trace", trace: (options.loadTrace ?? loadTraceFile)(v.trace, `${prefix}trace`) };
  else if (v.rateBps !== undefined) rate = { kind: "fixed", bitsPerSecond: v.rateBps };

  let loss: LossModel = { kind: "none" };
  if (typeof v.loss === "number") loss = { kind: "bernoulli", p: v.loss };
  else if (v.loss?.model === "bernoulli") loss = { kind: "bernoulli", p: v.loss.p };
  else if (v.loss?.model === "gilbert-elliott") {
    const { model: _model, ...ge } = v.loss;
    loss = { kind: "gilbert-elliott", ...ge };
  }

  let queue: QueueLimit = { kind: "unlimited" };
  if (v.queuePackets !== undefined) queue = { kind: "packets", packets: v.queuePackets };
  else if (v.queueBytes !== undefined) queue = { kind: "bytes", bytes: v.queueBytes };

  const config: LinkConfig = { rate, delayMs: v.delayMs, jitterMs: v.jitterMs, loss, queue };
  try {
    return resolveLinkConfig(config, prefix);
  } catch (err) {
    // A few input names differ from the typed config's (rateBps, queuePackets, queueBytes, a numeric loss); report the input's name.
    if (err instanceof LinkError) throw renameField(err, prefix, typeof v.loss === "number");
    throw err;
  }
}

function parseLoss(loss: unknown, prefix: string): LinkConfigInput["loss"] {
  if (loss === undefined || typeof loss === "number") return loss;
  if (typeof loss === "object" && loss !== null && !Array.isArray(loss)) return check(lossObjectSchema, loss, `${prefix}loss.`);
  throw new LinkError("INVALID_CONFIG", `${prefix}loss`,
    `field "${prefix}loss": expected a loss probability (a number in [0, 1]) or an object with "model": "bernoulli" | "gilbert-elliott", got ${Array.isArray(loss) ? "array" : typeof loss}`);
}

/** Runs one zod schema; the first issue becomes a LinkError naming its field under `prefix`. */
function check<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const checked = checkSchema(schema, value);
  if (checked.ok) return checked.msg;
  const bare = checked.error.field;
  const field = prefix + (bare ?? "");
  const message = bare
    ? checked.error.message.replace(`field "${bare}"`, `field "${field}"`)
    : prefix ? `field "${prefix.slice(0, -1)}": ${checked.error.message}` : `link config: ${checked.error.message}`;
  throw new LinkError("INVALID_CONFIG", field.replace(/\.$/, "") || "config", message);
}

const INPUT_NAMES: Readonly<Record<string, string>> = {
  "rate.bitsPerSecond": "rateBps",
  "queue.packets": "queuePackets",
  "queue.bytes": "queueBytes",
};

function renameField(err: LinkError, prefix: string, lossWasNumber: boolean): LinkError {
  const bare = err.field.slice(prefix.length);
  const renamed = bare === "loss.p" && lossWasNumber ? "loss" : INPUT_NAMES[bare];
  if (!renamed) return err;
  const field = prefix + renamed;
  return new LinkError(err.code, field, err.message.split(err.field).join(field));
}
