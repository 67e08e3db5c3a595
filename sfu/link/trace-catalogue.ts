/**
 * The uplink traces shipped in `traces/` (from mahimahi, GPL-3.0; see traces/README.md), by short
 * name, and a loader that takes either a name or a file path. Paths resolve relative to this module,
 * so they work from any working directory.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LinkError } from "./errors.ts";
import { parseTrace, type Trace } from "./trace.ts";

const FILES = {
  "att-lte-driving": "ATT-LTE-driving-2016.up",
  "tmobile-lte": "TMobile-LTE-short.up",
  "verizon-evdo-driving": "Verizon-EVDO-driving.up",
  "verizon-lte": "Verizon-LTE-short.up",
} as const;

export type TraceName = keyof typeof FILES;

/** Shipped trace name -> absolute file path. */
export const TRACE_CATALOGUE: Readonly<Record<TraceName, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(FILES).map(([name, file]) => [name, fileURLToPath(new URL(`./traces/${file}`, import.meta.url))]),
  ) as Record<TraceName, string>,
);

export const TRACE_NAMES = Object.keys(FILES) as TraceName[];

export function isTraceName(s: string): s is TraceName {
  return Object.hasOwn(FILES, s);
}

/**
 * Reads and parses a trace given a catalogue name ("verizon-lte") or a file path. A missing file is
 * an `INVALID_CONFIG` error on `field` that lists the shipped names; a bad file is `INVALID_TRACE`.
 */
export function loadTrace(nameOrPath: string, field = "trace"): Trace {
  const path = isTraceName(nameOrPath) ? TRACE_CATALOGUE[nameOrPath] : nameOrPath;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new LinkError("INVALID_CONFIG", field,
      `${field}: cannot read trace ${JSON.stringify(nameOrPath)} (${(err as NodeJS.ErrnoException).code ?? String(err)}); give a file path or one of ${TRACE_NAMES.join(", ")}`,
      { cause: err });
  }
  return parseTrace(text, isTraceName(nameOrPath) ? nameOrPath : path, field);
}
