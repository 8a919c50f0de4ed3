/**
 * Operations: health and readiness, Prometheus metrics, structured logs without secrets,
 * request body limits and configuration errors.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { gql, rpc, startTestServer, type TestServer } from './helpers/server';

describe('operations endpoints', () => {
  let s: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    s = await startTestServer({ db: 'postgres', logger: createLogger('info', sink) });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('/healthz is alive and /readyz checks the database and migrations', async () => {
    expect(await (await fetch(`${s.url}/healthz`)).json() as unknown).toEqual({ status: 'ok' });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } });
  });

  it('/readyz goes red when a migration is missing', async () => {
    await s.companion.db('knexMigrations').del();
    try {
      const r = await fetch(`${s.url}/readyz`);
      expect(r.status).toBe(503);
      expect(((await r.json()) as any).checks.migrations).toMatch(/pending/);
    } finally {
      await s.companion.db('knexMigrations').insert({ name: '20261122_0001_core', batch: 1, migrationTime: new Date() });
    }
  });

  it('/metrics needs a key and counts requests per transport and method', async () => {
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 1, method: 'projects.list' });
    await gql(s.url, s.adminKey, 'query Q { projects(first: 1) { edges { cursor } } }');
    const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.adminKey}` } });
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/companion_requests_total\{transport="jsonrpc",method="projects.list",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/companion_requests_total\{transport="graphql",method="query projects",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/companion_request_duration_seconds_bucket\{le="0.1",transport="jsonrpc",method="projects.list"\}/);
    // The receipt queue and the register, read at scrape time (demo data: 2 queued, 1 dead; no register).
    expect(text).toMatch(/companion_receipts\{status="queued"\} 2\n/);
    expect(text).toMatch(/companion_receipts\{status="dead"\} 1\n/);
    expect(text).toMatch(/companion_kkt_state\{state="not_configured"\} 1\n/);
    expect(text).toMatch(/companion_kkt_state\{state="ready"\} 0\n/);
  });

  it('writes JSON log lines with request ids and never the API key', async () => {
    const secret = s.adminKey;
    await fetch(`${s.url}/graphql?x=${encodeURIComponent(secret)}`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'x-request-id': 'req-123' }, body: '{"query":"{ __typename }"}' });
    await rpc(s.url, secret, { jsonrpc: '2.0', id: 1, method: 'projects.get', params: { guid: 'nope' } });
    s.companion.logger.info(`a careless message quoting Bearer ${secret}`);
    const all = lines.join('');
    expect(all).toContain('"requestId":"req-123"');
    expect(all).not.toContain(secret.slice(14));
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('refuses oversized bodies with 413 on both transports', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    const g = await fetch(`${s.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ __typename } # ${big}` }) });
    expect(g.status).toBe(413);
    const j = await fetch(`${s.url}/jsonrpc`, { method: 'POST', headers: { authorization: `Bearer ${s.adminKey}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x', params: { big } }) });
    expect(j.status).toBe(413);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const r = await fetch(`${s.url}/nope`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as any).errors[0].extensions.code).toBe('NOT_FOUND');
  });
});

describe('configuration', () => {
  it('defaults to SQLite under ./data and port 4000', () => {
    const c = loadConfig({});
    expect(c.database.client).toBe('sqlite');
    expect(c.database.connection).toMatch(/data\/companion\.sqlite$/);
    expect(c.port).toBe(4000);
  });

  it('switches to PostgreSQL with DATABASE_URL', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:pw@db:5432/odoo' });
    expect(c.database).toMatchObject({ client: 'postgres', connection: 'postgres://u:pw@db:5432/odoo' });
  });

  it('names every bad variable', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toMatch(/PORT/);
      expect(msg).toMatch(/DATABASE_URL/);
      expect(msg).toMatch(/LOG_LEVEL/);
    }
  });
});
