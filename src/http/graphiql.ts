// Serves the GraphiQL IDE at the GraphQL endpoint, from assets bundled at build
// time (scripts/build-graphiql.mjs). The machines running the companion are
// offline, so Apollo's CDN-based landing page cannot be used; this replaces it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { repoRoot } from '../paths';

export interface GraphiqlOptions {
  /** Path of the GraphQL endpoint, relative to where the router is mounted (e.g. "/graphql"). */
  endpoint: string;
  /** Page title. */
  title?: string;
  /** Folder with graphiql.js and graphiql.css; default <repo root>/dist/public/graphiql. */
  assetsDir?: string;
}

const ASSETS_PATH = '/graphiql-assets';

// Everything comes from this server. Styles need 'unsafe-inline': GraphiQL's
// dialogs (Radix, via react-remove-scroll) inject a <style> element when they
// open (checked: the settings dialog breaks the CSP without it). Scripts stay
// 'self' only. The bundled fonts are data: URIs.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function graphiqlMiddleware(opts: GraphiqlOptions): express.Router {
  const assetsDir = opts.assetsDir ?? join(repoRoot(), 'dist', 'public', 'graphiql');
  const title = opts.title ?? 'GraphiQL';
  const version = assetVersion(assetsDir);
  const router = express.Router();

  router.use(
    ASSETS_PATH,
    express.static(assetsDir, {
      index: false,
      // URLs carry a content hash (?v=...), so browsers may keep them for good.
      immutable: true,
      maxAge: '365d',
    }),
  );

  router.get(opts.endpoint, ((req, res, next) => {
    if (!wantsPage(req)) return next();
    const v = version();
    if (v === undefined) return sendNotBuilt(res, assetsDir);
    res
      .status(200)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        // The page names the current asset hash; never serve a stale one.
        'Cache-Control': 'no-store',
      })
      .send(renderPage({ title, assetsBase: assetsBaseFor(req.path), version: v }));
  }) satisfies RequestHandler);

  return router;
}

/** A browser asking for a page, not a GraphQL-over-GET request. */
function wantsPage(req: Request): boolean {
  if (req.query['query'] !== undefined) return false;
  // Listed first, JSON wins ties such as "*/*" (curl, fetch); browsers rank text/html higher.
  return req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * Asset URL prefix relative to the page, so the page works wherever the router
 * is mounted or proxied: "/graphql" -> "./graphiql-assets/", "/graphql/" or
 * "/api/graphql" -> "../graphiql-assets/".
 */
function assetsBaseFor(pagePath: string): string {
  const depth = pagePath.split('/').length - 2;
  return `${depth > 0 ? '../'.repeat(depth) : './'}${ASSETS_PATH.slice(1)}/`;
}

/**
 * Short content hash of the built bundle, recomputed when the file changes
 * (a rebuild while the server runs); undefined while it has not been built.
 */
function assetVersion(assetsDir: string): () => string | undefined {
  let cached: { mtimeMs: number; hash: string } | undefined;
  return () => {
    const js = join(assetsDir, 'graphiql.js');
    const css = join(assetsDir, 'graphiql.css');
    if (!existsSync(js) || !existsSync(css)) return undefined;
    const mtimeMs = Math.max(statSync(js).mtimeMs, statSync(css).mtimeMs);
    if (cached?.mtimeMs !== mtimeMs) {
      const hash = createHash('sha256').update(readFileSync(js)).update(readFileSync(css));
      cached = { mtimeMs, hash: hash.digest('hex').slice(0, 12) };
    }
    return cached.hash;
  };
}

function sendNotBuilt(res: Response, assetsDir: string): void {
  res
    .status(503)
    .type('text/plain')
    .send(
      `GraphiQL is not built: ${join(assetsDir, 'graphiql.js')} is missing.\n` +
        'Run `npm run build` (or `node scripts/build-graphiql.mjs`) and reload.\n',
    );
}

function renderPage(p: { title: string; assetsBase: string; version: string }): string {
  const t = escapeHtml(p.title);
  const base = escapeHtml(p.assetsBase);
  const v = encodeURIComponent(p.version);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}graphiql.css?v=${v}">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="${base}graphiql.js?v=${v}" defer></script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Nearest folder at or above `from` holding package.json: this file runs from
 * src/http under vitest and from dist/src/http once built. A package.json that
 * tsc copied into dist/ (it does when some module imports package.json) is not
 * the root: its parent is.
 */
