/**
 * The iiko sync accepts department chains of any depth (tests/iiko-sync.test.ts); reading them
 * back must not overflow the stack. GraphQL departmentTree is flat (depth + parentId) and has no
 * limit; JSON-RPC departments.tree nests, so a tree deeper than it can serialise is a clear
 * INVALID_PARAMS naming max_depth, not an internal error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NESTED_TREE_DEPTH } from '../src/services/departments';
import { DB_KINDS } from './helpers/db';
import { gql, rpc, startTestServer, type TestServer } from './helpers/server';

const DEPTH = 5000;

describe.each(DB_KINDS)('a %s department chain 5,000 levels deep', (db) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ db, seed: false });
    const now = new Date().toISOString();
    const rows = Array.from({ length: DEPTH }, (_, i) => ({
      id: i + 1, guid: `00000000-0000-0000-0000-${String(i + 1).padStart(12, '0')}`, sourceServer: 'deep',
      parentId: i === 0 ? null : i, name: `level ${i}`, type: i === DEPTH - 1 ? 'SALEPOINT' : 'DEPARTMENT', createdAt: now, updatedAt: now,
    }));
    for (let i = 0; i < rows.length; i += 500) await s.companion.db('departments').insert(rows.slice(i, i + 500));
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it('GraphQL departmentTree returns every level, parents first', async () => {
    const r = await gql(s.url, s.adminKey, '{ departmentTree { id parentId depth type } }');
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data.departmentTree as Array<{ id: string; parentId: string | null; depth: number; type: string }>;
    expect(nodes).toHaveLength(DEPTH);
    nodes.forEach((n, i) => {
      expect(n.depth).toBe(i);
      expect(n.parentId === null ? null : Number(n.parentId)).toBe(i === 0 ? null : i);
    });
    // The deepest node's type keeps the whole chain of ancestors leading to it.
    const only = await gql(s.url, s.adminKey, '{ departmentTree(types: ["SALEPOINT"]) { depth } }');
    expect(only.body.data.departmentTree).toHaveLength(DEPTH);
    const cut = await gql(s.url, s.adminKey, '{ departmentTree(maxDepth: 9) { depth } }');
    expect(cut.body.data.departmentTree).toHaveLength(10);
  });

  it('JSON-RPC departments.tree nests up to max_depth, and names max_depth when the tree is too deep to nest', async () => {
    const nested = (await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 1, method: 'departments.tree', params: { max_depth: 100 } })).body;
    let depth = 0;
    for (let n = nested.result[0]; n.children.length; n = n.children[0]) depth++;
    expect(depth).toBe(100);

    // The limit itself: exactly MAX_NESTED_TREE_DEPTH levels nest; one more is refused, naming max_depth.
    const deepest = (await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 4, method: 'departments.tree', params: { max_depth: MAX_NESTED_TREE_DEPTH } })).body;
    expect(deepest.error).toBeUndefined();
    depth = 0;
    for (let n = deepest.result[0]; n.children.length; n = n.children[0]) depth++;
    expect(depth).toBe(MAX_NESTED_TREE_DEPTH);
    const over = (await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 5, method: 'departments.tree', params: { max_depth: MAX_NESTED_TREE_DEPTH + 1 } })).body;
    expect(over.error.code).toBe(-32602);
    expect(JSON.stringify(over.error.data)).toContain('max_depth');

    const whole = (await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 2, method: 'departments.tree', params: {} })).body;
    expect(whole.error.code).toBe(-32602);
    expect(whole.error.message).toMatch(new RegExp(`${DEPTH - 1} levels deep.*at most ${MAX_NESTED_TREE_DEPTH}: pass max_depth \\(at most ${MAX_NESTED_TREE_DEPTH}\\).*departments\\.list`));
    expect(whole.error.data.problems[0].field).toBe('max_depth');
    // The server is fine afterwards.
    expect((await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 3, method: 'departments.list', params: { first: 1 } })).body.result.items).toHaveLength(1);
  });
});
