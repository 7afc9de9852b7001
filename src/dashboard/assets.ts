import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** Where `make build` puts the dashboard (vite's outDir): dist/dashboard beside dist/src. */
export const builtDashboard = fileURLToPath(new URL("../../dashboard/", import.meta.url));

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
};

/** Types worth compressing: text. Images and fonts are compressed already. */
const compressible = new Set([
  ".html",
  ".js",
  ".css",
  ".svg",
  ".json",
  ".webmanifest",
  ".txt",
  ".md",
]);

/**
 * Every asset from the package, nothing from elsewhere. connect-src 'self' covers the page's own
 * ws:// and wss:// origin. xterm.js adds <style> elements of its own (its theme, its cell sizes),
 * hence 'unsafe-inline' for styles only; no script runs but the package's own.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of every dashboard answer, the login endpoint's too. */
export const securityHeaders: Record<string, string> = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  /** Hashed file names (vite's assets/) never change: cached for a year. */
  immutable: boolean;
}

/**
 * The built dashboard, read once into memory (a few hundred KiB) with each text file gzipped
 * ahead: `GET /` is index.html, every other file by its path. Null when it was not built.
 */
export class DashboardAssets {
  private constructor(private readonly files: Map<string, Asset>) {}

  static load(dir = builtDashboard): DashboardAssets | null {
    let names: string[];
    try {
      names = readdirSync(dir, { recursive: true, encoding: "utf8" });
    } catch {
      return null;
    }
    const files = new Map<string, Asset>();
    for (const name of names) {
      const file = join(dir, name);
      if (!statSync(file).isFile()) continue;
      const ext = extname(name);
      const body = readFileSync(file);
      const path = "/" + relative(dir, file).split(sep).join("/");
      files.set(path, {
        body,
        gzip: compressible.has(ext) ? gzipSync(body, { level: 9 }) : null,
        type: contentTypes[ext] ?? "application/octet-stream",
        etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
        immutable: path.startsWith("/assets/"),
      });
    }
    return files.has("/index.html") ? new DashboardAssets(files) : null;
  }

  has(path: string): boolean {
    return this.files.has(path === "/" ? "/index.html" : path);
  }

  /** Answers GET or HEAD of a path `has` knows. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): void {
    const asset = this.files.get(path === "/" ? "/index.html" : path)!;
    res.setHeader("content-type", asset.type);
    res.setHeader("etag", asset.etag);
    res.setHeader(
      "cache-control",
      asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    );
    for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
    if (asset.gzip) res.setHeader("vary", "accept-encoding");
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304).end();
      return;
    }
    const gzip = asset.gzip !== null && acceptsGzip(req.headers["accept-encoding"]);
    const body = gzip ? asset.gzip! : asset.body;
    if (gzip) res.setHeader("content-encoding", "gzip");
    res.setHeader("content-length", body.length);
    res.writeHead(200);
    res.end(req.method === "HEAD" ? undefined : body);
  }
}

/** Whether an Accept-Encoding header takes gzip: named (or `*`) with a q above 0. */
export function acceptsGzip(header: string | undefined): boolean {
  const q = new Map<string, number>();
  for (const part of (header ?? "").toLowerCase().split(",")) {
    const [coding, ...params] = part.split(";").map((p) => p.trim());
    const weight = params.map((p) => /^q=([\d.]+)$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (coding) q.set(coding, weight === undefined ? 1 : Number(weight));
  }
  return (q.get("gzip") ?? q.get("*") ?? 0) > 0;
}
