import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildClient } from "./build.ts";
import { shadeAlphas } from "./src/overlay.ts";
import { mapFromRegions } from "../encoder/importance/map.ts";

const dir = mkdtempSync(join(tmpdir(), "client-build-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("client bundle", () => {
  it("builds for the browser (a node:* import anywhere in client/, encoder/ or sfu/protocol would fail it) with nothing fetched at run time", async () => {
    const r = await buildClient(join(dir, "dist"));
    expect(Object.keys(r.bytes).sort()).toEqual(["app.css", "app.js", "index.html"]);
    // zod imported as a namespace tree-shakes to ~85 KB; `import { z }` pulled in 450 KB of locales.
    expect(r.bytes["app.js"]).toBeLessThan(250 * 1024);
    const html = readFileSync(join(r.dir, "index.html"), "utf8");
    const js = readFileSync(join(r.dir, "app.js"), "utf8");
    expect(html).not.toMatch(/https?:\/\//);
    expect(js).not.toMatch(/(import|from)\s*["']https?:/);
    expect(js).not.toMatch(/node:(fs|path|child_process|crypto|os)/);
  });
});

describe("region overlay", () => {
  it("leaves the region clear and shades the rest by how little it matters", () => {
    const map = mapFromRegions(128, 64, 64, [{ x: 0, y: 0, width: 64, height: 64 }]);
    const a = shadeAlphas(map, 0.5);
    expect(a[0]).toBe(0);
    expect(a[1]).toBeGreaterThan(0);
    expect(a[1]).toBeLessThanOrEqual(0.5);
  });
});
