/**
 * Serves the built page (client/dist) for the call server's `httpRoutes` hook: GET/HEAD of `/`,
 * `/index.html`, and the files esbuild wrote. Only names in the folder's own listing are served,
 * so no request path can reach outside it.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `npm run build` (client/build.ts) writes the page. */
export const DIST_DIR = join(dirname(fileURLToPath(import.meta.url)), "dist");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Returns an `httpRoutes` handler. Files are read once, at the first request after a build (the
 * folder is small). When the page was never built, `/` answers 503 saying how to build it.
 */
export function clientRoutes(dir: string = DIST_DIR): (req: IncomingMessage, res: ServerResponse) => boolean {
  let files: Map<string, Buffer> | null = null;
  const load = (): Map<string, Buffer> | null => {
    if (files) return files;
    if (!existsSync(join(dir, "index.html"))) return null;
    files = new Map(readdirSync(dir).filter((f) => TYPES[extname(f)]).map((f) => [`/${f}`, readFileSync(join(dir, f))]));
    return files;
  };
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    let path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/") path = "/index.html";
    const served = load();
    if (!served) {
      if (path !== "/index.html") return false;
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
      res.end(`The page is not built: run "npm run build" (npm start does it first), then reload.\n`);
      return true;
    }
    const body = served.get(path);
    if (!body) return false;
    res.writeHead(200, {
      "content-type": TYPES[extname(path)]!,
      "content-length": body.byteLength,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}
