/**
 * Bundles the page into `client/dist/` with esbuild: `app.js` (one ES module, everything inlined,
 * nothing fetched from a CDN at run time), `app.css`, `index.html`. The server serves that folder
 * (client/serve.ts). `platform: "browser"` makes any `node:*` import a build error, which keeps the
 * shared encoder/ and sfu/protocol modules honest.
 *
 * Run: `npm run build` (also runs before `npm start`).
 */
import { build } from "esbuild";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DIST_DIR } from "./serve.ts";

const CLIENT_DIR = dirname(fileURLToPath(import.meta.url));

export interface BuildResult {
  readonly dir: string;
  readonly bytes: Record<string, number>;
}

/** Builds into `outDir` (default client/dist) via a temporary folder, so a failed build leaves the old one. */
export async function buildClient(outDir: string = DIST_DIR, opts: { minify?: boolean } = {}): Promise<BuildResult> {
  const tmp = `${outDir}.partial`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await build({
    entryPoints: [join(CLIENT_DIR, "src/main.ts")],
    outfile: join(tmp, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["chrome109", "firefox115", "safari16"],
    minify: opts.minify ?? true,
    sourcemap: "linked",
    legalComments: "linked",
    logLevel: "warning",
  });
  await copyFile(join(CLIENT_DIR, "index.html"), join(tmp, "index.html"));
  await copyFile(join(CLIENT_DIR, "style.css"), join(tmp, "app.css"));
  await rm(outDir, { recursive: true, force: true });
  await rename(tmp, outDir);
  const bytes: Record<string, number> = {};
  for (const f of ["index.html", "app.js", "app.css"]) bytes[f] = (await stat(join(outDir, f))).size;
  return { dir: outDir, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  const r = await buildClient();
  const sizes = Object.entries(r.bytes).map(([f, b]) => `${f} ${(b / 1024).toFixed(1)} KiB`).join(", ");
  console.log(`client built into ${r.dir} in ${Math.round(performance.now() - t0)} ms: ${sizes}`);
}
