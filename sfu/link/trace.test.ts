import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { linkError } from "./test-util.ts";
import { isTraceName, loadTrace, TRACE_CATALOGUE, TRACE_NAMES } from "./trace-catalogue.ts";
import { firstOpportunityAfter, opportunityTimeMs, parseTrace, traceMeanKbps } from "./trace.ts";

const dir = mkdtempSync(join(tmpdir(), "link-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a trace file to the temp dir and returns its path. */
function traceFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}


describe("parseTrace", () => {
  it("parses repeated timestamps as several opportunities; the last timestamp is the period", () => {
    const t = parseTrace("1\n1\n4\n10\n");
    expect([...t.opportunitiesMs]).toEqual([1, 1, 4, 10]);
    expect(t.periodMs).toBe(10);
  });

  it("accepts CRLF line ends and a file without a final newline", () => {
    expect([...parseTrace("3\r\n7\r\n").opportunitiesMs]).toEqual([3, 7]);
    expect([...parseTrace("3\n7").opportunitiesMs]).toEqual([3, 7]);
  });

  it("empty file: INVALID_TRACE saying the trace is empty", () => {
    for (const text of ["", "\n", "   "]) {
      const e = linkError(() => loadTrace(traceFile("empty.up", text)));
      expect(e.code).toBe("INVALID_TRACE");
      expect(e.field).toBe("trace");
      expect(e.message).toMatch(/empty/);
    }
  });

  it("malformed line: gives the line number and the text", () => {
    const path = traceFile("bad.up", "1\n2\nabc\n4\n");
    const e = linkError(() => loadTrace(path));
    expect(e.code).toBe("INVALID_TRACE");
    expect(e.line).toBe(3);
    expect(e.message).toContain("line 3");
    expect(e.message).toContain('"abc"');
    expect(e.message).toContain(path);
  });

  it("negative, fractional and blank lines are malformed", () => {
    expect(linkError(() => parseTrace("1\n-5\n")).line).toBe(2);
    expect(linkError(() => parseTrace("1\n2.5\n")).message).toContain('"2.5"');
    const blank = linkError(() => parseTrace("1\n\n3\n"));
    expect(blank.line).toBe(2);
    expect(blank.message).toContain("empty line");
  });

  it("timestamps going backwards: names the line and both times", () => {
    const e = linkError(() => loadTrace(traceFile("back.up", "1\n5\n9\n3\n12\n")));
    expect(e.code).toBe("INVALID_TRACE");
    expect(e.line).toBe(4);
    expect(e.message).toMatch(/line 4 goes backwards \(3 ms after 9 ms\)/);
  });

  it("a trace whose period is 0: INVALID_TRACE", () => {
    const e = linkError(() => loadTrace(traceFile("zero.up", "0\n0\n0\n")));
    expect(e.code).toBe("INVALID_TRACE");
    expect(e.message).toMatch(/lasts 0 ms/);
  });

  it("field prefix is used in trace errors (e.g. for the uplink's trace)", () => {
    expect(linkError(() => parseTrace("x", "t.up", "uplink.trace")).field).toBe("uplink.trace");
  });
});

describe("trace schedule", () => {
  const t = parseTrace("0\n5\n5\n10\n");

  it("opportunityTimeMs: repeats with period = last timestamp (as mm-link)", () => {
    // Cycle 0: 0, 5, 5, 10; cycle 1: 10, 15, 15, 20.
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => opportunityTimeMs(t, i))).toEqual([0, 5, 5, 10, 10, 15, 15, 20]);
  });

  it("firstOpportunityAfter: strictly after the given time, across cycles", () => {
    expect(firstOpportunityAfter(t, -1)).toBe(0);
    expect(opportunityTimeMs(t, firstOpportunityAfter(t, 0))).toBe(5);
    expect(firstOpportunityAfter(t, 0)).toBe(1);
    expect(opportunityTimeMs(t, firstOpportunityAfter(t, 5))).toBe(10);
    expect(opportunityTimeMs(t, firstOpportunityAfter(t, 9.5))).toBe(10);
    expect(firstOpportunityAfter(t, 10)).toBe(5); // the two 10 ms opportunities are not after 10
    expect(opportunityTimeMs(t, firstOpportunityAfter(t, 1003))).toBe(1005);
  });
});

describe("trace catalogue", () => {
  it("every shipped trace loads by name, with its mean capacity", () => {
    expect(TRACE_NAMES.sort()).toEqual(["att-lte-driving", "tmobile-lte", "verizon-evdo-driving", "verizon-lte"]);
    const kbps = Object.fromEntries(TRACE_NAMES.map((n) => [n, Math.round(traceMeanKbps(loadTrace(n)))]));
    // lines * 1500 B * 8 / period: 19101/120002 ms, 155381/140000, 74768/1064718, 69367/140000.
    expect(kbps).toEqual({ "att-lte-driving": 1910, "tmobile-lte": 13318, "verizon-evdo-driving": 843, "verizon-lte": 5946 });
  });

  it("catalogue paths are absolute and point into sfu/link/traces", () => {
    expect(TRACE_CATALOGUE["verizon-lte"]).toMatch(/sfu\/link\/traces\/Verizon-LTE-short\.up$/);
    expect(isTraceName("verizon-lte")).toBe(true);
    expect(isTraceName("toString")).toBe(false);
  });

  it("loadTrace: a missing file is INVALID_CONFIG listing the shipped names", () => {
    const e = linkError(() => loadTrace(join(dir, "nope.up")));
    expect(e.code).toBe("INVALID_CONFIG");
    expect(e.message).toContain("ENOENT");
    expect(e.message).toContain("verizon-lte");
  });

  it("traceMeanKbps: one opportunity per ms is 12 Mbps", () => {
    expect(traceMeanKbps(parseTrace("1\n"))).toBe(12_000);
  });
});
