/**
 * The JSON-RPC bridge's methods over real HTTP on both databases: the same services and
 * scopes as GraphQL, params validated by name, results matching the published schemas.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { repoRoot } from '../src/paths';
import { DB_KINDS } from './helpers/db';
import { rpc, startTestServer, type TestServer } from './helpers/server';

describe.each(DB_KINDS)('JSON-RPC methods on %s', (db) => {
  let s: TestServer;
  const call = async (method: string, params?: unknown, key: string | null = s.adminKey) =>
    (await rpc(s.url, key, { jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) })).body;
  /** Validates a result against the method's published result schema. */
  const check = (method: string, result: unknown) => {
    const def = s.companion.rpc.get(method)!;
    const parsed = (def.result as z.ZodType).safeParse(result);
    expect(parsed.success ? [] : parsed.error.issues.slice(0, 3)).toEqual([]);
  };

  beforeAll(async () => {
    s = await startTestServer({ db });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('projects.get returns the whole project tree by name and directory', async () => {
    const r = await call('projects.get', { name: 'DOS22309', directory_path: 'Demo Odoo', with_parts: true });
    expect(r.error).toBeUndefined();
    check('projects.get', r.result);
    expect(r.result.directory_path).toBe('Demo Odoo');
    expect(r.result.phases).toHaveLength(2);
    expect(r.result.phases.flatMap((p: any) => p.elevations)).toHaveLength(17);
    expect(r.result.phases.filter((p: any) => p.is_default)).toHaveLength(1);
    expect(r.result.phases[0].elevations[0].glass.length).toBeGreaterThan(0);
    expect(r.result.phases[0].elevations[0]).not.toHaveProperty('thumbnail');
  });

  it('by-position params mean the same as by-name params', async () => {
    const byName = await call('projects.get', { name: 'DOS22309', directory_path: 'Demo Odoo' });
    const byPos = await call('projects.get', [null, null, 'DOS22309', 'Demo Odoo'].map((v) => v ?? undefined));
    expect(byPos.result?.guid ?? byPos.error).toEqual(byName.result.guid);
  });

  it('lists with cursors and validates every result', async () => {
    const first = await call('elevations.list', { first: 10 });
    check('elevations.list', first.result);
    expect(first.result.items).toHaveLength(10);
    const next = await call('elevations.list', { first: 10, after: first.result.next_cursor });
    expect(next.result.items.length).toBeGreaterThan(0);
    expect(new Set([...first.result.items, ...next.result.items].map((e: any) => e.id)).size).toBe(first.result.items.length + next.result.items.length);
    for (const [method, params] of [
      ['projects.list', {}],
      ['departments.tree', { source_server: 'iiko-second' }],
      ['departments.list', { first: 5 }],
      ['sales.daily', { from: '2026-08-01', to: '2026-11-01' }],
      ['products.list', { first: 5 }],
      ['forecasts.list', { first: 5 }],
      ['sync.list', {}],
    ] as const) {
      const r = await call(method, params);
      expect(r.error, method).toBeUndefined();
      check(method, r.result);
    }
  });

  it('departments.tree nests children under their parents', async () => {
    const r = await call('departments.tree', { source_server: 'iiko-main' });
    const count = (nodes: any[]): number => nodes.reduce((a, n) => a + 1 + count(n.children), 0);
    expect(count(r.result)).toBe(52);
    const roots = await call('departments.tree', { source_server: 'iiko-main', max_depth: 0 });
    expect(roots.result.every((n: any) => n.children.length === 0)).toBe(true);
  });

  it('sync.status answers what an Odoo button polls', async () => {
    const list = await call('sync.list', { kind: 'logikal.project' });
    const runId = list.result.items[0].id;
    const r = await call('sync.status', { run_id: runId });
    check('sync.status', r.result);
    expect(r.result).toMatchObject({ status: 'succeeded', counters: { elevations_synced: 17 } });
  });

  it('invalid params give -32602 naming the field', async () => {
    const r = await call('sales.daily', { from: '01.02.2026', to: '2026-02-01' });
    expect(r.error.code).toBe(-32602);
    expect(r.error.data.problems[0].field).toBe('from');
    const unknown = await call('projects.list', { serch: 'x' });
    expect(unknown.error.code).toBe(-32602);
    expect(JSON.stringify(unknown.error.data)).toContain('serch');
    const wrongType = await call('sync.status', { run_id: 'seven' });
    expect(wrongType.error.data.problems[0].field).toBe('run_id');
  });

  it('application errors carry their codes: NOT_FOUND, CONFLICT', async () => {
    const nf = await call('projects.get', { guid: '00000000-0000-0000-0000-00000000beef' });
    expect(nf.error).toMatchObject({ code: -32004, data: { code: 'NOT_FOUND' } });
    const list = await call('sync.list', { status: 'succeeded' });
    const done = await call('sync.cancel', { run_id: list.result.items[0].id });
    expect(done.error).toMatchObject({ code: -32009, data: { code: 'CONFLICT' } });
  });

  it('enforces the same scopes as GraphQL', async () => {
    const readOnly = await s.key(['read']);
    expect((await call('sync.cancel', { run_id: 1 }, readOnly)).error).toMatchObject({ code: -32003, data: { requiredScope: 'sync' } });
    expect((await call('receipts.get', { id: 1 }, readOnly)).error.code).toBe(-32003);
    const cashier = await s.key(['receipts']);
    const receipt = await call('receipts.get', { id: 1 }, cashier);
    expect(receipt.error).toBeUndefined();
    check('receipts.get', receipt.result);
    const anon = await rpc(s.url, null, { jsonrpc: '2.0', id: 1, method: 'projects.list' });
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe(-32001);
    const bogus = await rpc(s.url, 'oc_0123456789_' + 'z'.repeat(43), { jsonrpc: '2.0', id: 1, method: 'projects.list' });
    expect(bogus.status).toBe(401);
  });

  it('answers each call of a mixed batch', async () => {
    const r = await rpc(s.url, s.adminKey, [
      { jsonrpc: '2.0', id: 'a', method: 'projects.list', params: { first: 1 } },
      { jsonrpc: '2.0', id: 'b', method: 'no.such' },
      { jsonrpc: '2.0', method: 'projects.list' },
      { jsonrpc: '2.0', id: 'c', method: 'sales.daily', params: {} },
      { foo: 'bar' },
    ]);
    expect(r.status).toBe(200);
    const byId = new Map(r.body.map((x: any) => [x.id, x]));
    expect(r.body).toHaveLength(4);
    expect((byId.get('a') as any).result.items).toHaveLength(1);
    expect((byId.get('b') as any).error.code).toBe(-32601);
    expect((byId.get('c') as any).error.code).toBe(-32602);
    expect((byId.get(null) as any).error.code).toBe(-32600);
  });

  it('rpc.discover returns the committed OpenRPC document', async () => {
    const r = await call('rpc.discover');
    const committed = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'schema/openrpc.json'), 'utf8'));
    expect(r.result).toEqual(committed);
    expect(r.result.methods.map((m: any) => m.name)).toEqual(expect.arrayContaining(['projects.list', 'projects.get', 'elevations.list', 'departments.tree', 'receipts.get', 'sync.status']));
  });
});
