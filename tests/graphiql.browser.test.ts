// GraphiQL page in a real browser (Debian's Chromium, driven by playwright-core):
// the page renders from the middleware's own assets, sends the key from the
// Headers tab, shows the result, and never reaches beyond the server (the
// machines it runs on are offline).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphiqlMiddleware } from '../src/http/graphiql';
import { startTestServer } from './helpers/server';

const ROOT = join(__dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const PROJECTS_QUERY = '{ projects(first: 5) { edges { node { name } } } }';
const EXPECTED_PROJECT = 'DOS22309';

// GraphiQL's editors are CodeMirror 5 instances; read them through the
// instance the library hangs on the wrapper element.
const SEL = {
  run: '.graphiql-execute-button',
  query: '.graphiql-query-editor .CodeMirror',
  headers: '.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror',
  result: '.result-window .CodeMirror',
};

let server: { url: string; adminKey: string; close(): Promise<void> };
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)`);
  }
  // CI builds through `npm ci` (prepare); a developer running vitest alone may not have.
  if (!existsSync(join(ROOT, 'dist/public/graphiql/graphiql.js'))) {
    execFileSync(process.execPath, ['scripts/build-graphiql.mjs'], { cwd: ROOT, stdio: 'inherit' });
  }
  // The real middleware (SQLite, demo data), so the page is tested against the real schema.
  server = await startTestServer({ db: 'sqlite' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh browser context (own localStorage) that records what the page does. */
async function openContext(): Promise<{
  context: BrowserContext;
  page: Page;
  urls: string[];
  errors: string[];
}> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 800 } });
  const page = await context.newPage();
  const urls: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { context, page, urls, errors };
}

function offOrigin(urls: string[]): string[] {
  const origin = new URL(server.url);
  return urls.filter((u) => {
    if (u.startsWith('data:')) return false;
    const url = new URL(u);
    return url.host !== origin.host || !['http:', 'ws:'].includes(url.protocol);
  });
}

async function editorValue(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(selector);
  return page.evaluate(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (sel) => ((globalThis as any).document.querySelector(sel).CodeMirror.getValue() as string),
    selector,
  );
}

/** Replace an editor's text the way a user would: focus, select all, type. */
async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  await page.click(selector);
  await page.keyboard.press('Control+A');
  // insertText goes in as one input event, so auto-closed brackets don't double up.
  await page.keyboard.insertText(text);
  expect(await editorValue(page, selector)).toBe(text);
}

async function runAndReadResult(page: Page, expectedText: string): Promise<unknown> {
  await page.click(SEL.run);
  await page.waitForFunction(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    ([sel, text]) => (globalThis as any).document.querySelector(sel)?.CodeMirror.getValue().includes(text),
    [SEL.result, expectedText] as const,
    { timeout: 15_000 },
  );
  return JSON.parse(await editorValue(page, SEL.result));
}

describe('GraphiQL page in Chromium', { timeout: 60_000 }, () => {
  it('runs a query with the stored API key, offline and without errors', async () => {
    const { context, page, urls, errors } = await openContext();
    // A returning user: key and query already in GraphiQL's localStorage.
    await page.addInitScript(
      ([key, query]) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const storage = (globalThis as any).localStorage;
        storage.setItem('graphiql:headers', JSON.stringify({ Authorization: `Bearer ${key}` }));
        storage.setItem('graphiql:query', query);
      },
      [server.adminKey, PROJECTS_QUERY] as const,
    );

    const response = await page.goto(`${server.url}/graphql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");

    const result = await runAndReadResult(page, EXPECTED_PROJECT);
    expect(result).toMatchObject({
      data: { projects: { edges: expect.arrayContaining([{ node: { name: EXPECTED_PROJECT } }]) } },
    });
    // GRAPHIQL_SCREENSHOT=/tmp/graphiql.png to look at the page a person would see.
    if (process.env.GRAPHIQL_SCREENSHOT) await page.screenshot({ path: process.env.GRAPHIQL_SCREENSHOT });

    // The schema arrived with the key (the docs list the root type), and the
    // settings dialog opens within the CSP (it injects a <style> element).
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector('.graphiql-doc-explorer-root-type');
    await page.click('[aria-label="Open settings dialog"]');
    await page.waitForSelector('.graphiql-dialog');
    await page.keyboard.press('Escape');

    expect(offOrigin(urls)).toEqual([]);
    expect(urls.some((u) => u.includes('/graphiql-assets/graphiql.js'))).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('asks a new user for the key, sends what they type and remembers it', async () => {
    const { context, page, urls, errors } = await openContext();
    await page.goto(`${server.url}/graphql`);

    expect(await editorValue(page, SEL.headers)).toBe('{"Authorization": "Bearer <paste your API key>"}');
    expect(await editorValue(page, SEL.query)).toContain('__typename');

    const headers = JSON.stringify({ Authorization: `Bearer ${server.adminKey}` });
    await typeInto(page, SEL.headers, headers);
    await typeInto(page, SEL.query, PROJECTS_QUERY);
    await runAndReadResult(page, EXPECTED_PROJECT);

    // shouldPersistHeaders: the key survives a reload. GraphiQL writes editor
    // contents to localStorage after a short debounce; wait for that first.
    await page.waitForFunction(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (key) => (globalThis as any).localStorage.getItem('graphiql:headers')?.includes(key),
      server.adminKey,
    );
    await page.reload();
    expect(await editorValue(page, SEL.headers)).toBe(headers);

    expect(offOrigin(urls)).toEqual([]);
    // The only error allowed: the schema fetch made with the placeholder key
    // before the user typed theirs, which the server refuses.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    await context.close();
  });

  it('runs a subscription over graphql-ws with the key in connection params', async () => {
    const { context, page, urls, errors } = await openContext();
    await page.addInitScript(
      ([key]) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const storage = (globalThis as any).localStorage;
        storage.setItem('graphiql:headers', JSON.stringify({ authorization: `Bearer ${key}` }));
        storage.setItem('graphiql:query', 'subscription { syncRunUpdated(id: 1) { status } }');
      },
      [server.adminKey] as const,
    );
    await page.goto(`${server.url}/graphql`);

    // GraphiQL shows the latest event: the demo's finished sync run, streamed then completed.
    expect(await runAndReadResult(page, 'SUCCEEDED')).toEqual({ data: { syncRunUpdated: { status: 'SUCCEEDED' } } });
    expect(urls.some((u) => u === `${server.url.replace('http:', 'ws:')}/graphql`)).toBe(true);
    expect(offOrigin(urls)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('graphiqlMiddleware over HTTP', () => {
  it('leaves GraphQL GET requests and non-HTML clients to the GraphQL server', async () => {
    const auth = { authorization: `Bearer ${server.adminKey}` };
    const viaGet = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      // What a browser sends: HTML preferred, anything accepted.
      headers: {
        ...auth,
        accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
        'apollo-require-preflight': 'true',
      },
    });
    expect(await viaGet.json()).toEqual({ data: { __typename: 'Query' } });

    const curlLike = await fetch(`${server.url}/graphql`, { headers: { ...auth, accept: '*/*' } });
    expect(curlLike.headers.get('content-type')).not.toContain('text/html');
  });

  it('serves a page that loads only its own assets, with long-cached assets', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:/);

    const js = html.match(/src="\.\/(graphiql-assets\/graphiql\.js\?v=\w+)"/)?.[1];
    expect(js).toBeDefined();
    const asset = await fetch(`${server.url}/${js}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('answers 503 with instructions when the assets were not built', async () => {
    const app = express().use(graphiqlMiddleware({ endpoint: '/graphql', assetsDir: join(ROOT, 'no-such-dir') }));
    const http = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => http.once('listening', resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build');
    } finally {
      http.close();
    }
  });
});
