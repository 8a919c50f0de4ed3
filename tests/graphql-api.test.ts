/**
 * GraphQL end to end over real HTTP, on SQLite and PostgreSQL: authentication and scopes,
 * relations, Relay pagination, filters, ordering, error codes and query limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from './helpers/db';
import { gql, startTestServer, type TestServer } from './helpers/server';

describe.each(DB_KINDS)('GraphQL API on %s', (db) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ db });
  });
  afterAll(async () => {
    await s?.close();
  });

  describe('authentication and scopes', () => {
    it('refuses a request without a key with 401 UNAUTHENTICATED', async () => {
      const r = await gql(s.url, null, '{ __typename }');
      expect(r.status).toBe(401);
      expect(r.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(r.body.data).toBeUndefined();
    });

    it('refuses an unknown key with 401', async () => {
      const r = await gql(s.url, 'oc_0123456789_' + 'x'.repeat(43), '{ __typename }');
      expect(r.status).toBe(401);
      expect(r.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('answers FORBIDDEN when the key lacks the scope, and runs with it', async () => {
      const readOnly = await s.key(['read']);
      const denied = await gql(s.url, readOnly, 'mutation { cancelSyncRun(id: 1) { id } }');
      expect(denied.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'sync' });
      const receipts = await gql(s.url, readOnly, '{ receipts(first: 1) { edges { node { id } } } }');
      expect(receipts.body.errors[0].extensions.code).toBe('FORBIDDEN');
      const ok = await gql(s.url, readOnly, '{ projects(first: 1) { edges { node { name } } } }');
      expect(ok.body.errors).toBeUndefined();
    });

    it('creates a key shown once, lists it without the secret, and a revoked key stops working', async () => {
      const created = await gql(s.url, s.adminKey, 'mutation { createApiKey(name: "odoo prod", scopes: ["read", "sync"]) { key client { id keyPrefix scopes } } }');
      const { key, client } = created.body.data.createApiKey;
      expect(key).toMatch(/^oc_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
      expect(client.scopes).toEqual(['read', 'sync']);
      const list = await gql(s.url, s.adminKey, '{ apiKeys { id name keyPrefix } }');
      expect(JSON.stringify(list.body)).not.toContain(key.slice('oc_0123456789_'.length)); // the secret part (it may contain '_')
      expect((await gql(s.url, key, '{ __typename }')).status).toBe(200);
      const revoked = await gql(s.url, s.adminKey, `mutation { revokeApiKey(id: ${client.id}) { revokedAt } }`);
      expect(revoked.body.data.revokeApiKey.revokedAt).toBeTruthy();
      const after = await gql(s.url, key, '{ __typename }');
      expect(after.status).toBe(401);
    });

    it('rejects unknown scopes with BAD_USER_INPUT', async () => {
      const r = await gql(s.url, s.adminKey, 'mutation { createApiKey(name: "x", scopes: ["root"]) { key } }');
      expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(r.body.errors[0].message).toMatch(/root/);
    });
  });

  describe('the data model through relations', () => {
    it('walks project → phases → elevations → glass and parts', async () => {
      const r = await gql(
        s.url,
        s.adminKey,
        `{ project(name: "DOS22309", directoryPath: "Demo Odoo") {
            guid name directory { path }
            phases { name isDefault logikalId elevations { name width systemName glass { glassId } parts { kind articleCode } } } } }`,
      );
      expect(r.body.errors).toBeUndefined();
      const p = r.body.data.project;
      expect(p.directory.path).toBe('Demo Odoo');
      expect(p.guid).toBe(p.guid.toLowerCase());
      expect(p.phases).toHaveLength(2);
      const counts = p.phases.map((ph: any) => ph.elevations.length).sort((a: number, b: number) => a - b);
      expect(counts).toEqual([4, 13]);
      expect(p.phases.filter((ph: any) => ph.isDefault)).toHaveLength(1);
      const e = p.phases[0].elevations[0];
      expect(e.glass.length).toBeGreaterThan(0);
      expect(e.parts.some((x: any) => x.kind === 'profile')).toBe(true);
    });

    it('serves departments with their tree, products with stock, receipts, forecasts and sync runs', async () => {
      const r = await gql(
        s.url,
        s.adminKey,
        `{ departments(first: 20, filter: { rootsOnly: true }) { totalCount edges { node { name type sourceServer children { name parent { name } } } } }
           departmentTree(sourceServer: "iiko-main") { id parentId depth type }
           products(first: 3) { totalCount edges { node { sku eanCodes stock { location quantity } marketplaces { marketplace } } } }
           receipts(first: 50) { edges { node { status totalMinor items { name priceMinor } payments { amountMinor } attempts { outcome } } } }
           forecasts(first: 5) { edges { node { date p10 p50 p90 department { name } modelVersion { version } } } }
           syncRuns(first: 5) { edges { node { kind status counters events { seq step } } } } }`,
      );
      expect(r.body.errors).toBeUndefined();
      const d = r.body.data;
      expect(new Set(d.departments.edges.map((e: any) => e.node.sourceServer))).toEqual(new Set(['iiko-main', 'iiko-second']));
      const root = d.departments.edges[0].node;
      expect(root.children.every((c: any) => c.parent.name === root.name)).toBe(true);
      expect(d.departmentTree).toHaveLength(52);
      expect(d.departmentTree[0].depth).toBe(0);
      expect(d.products.totalCount).toBeGreaterThan(3);
      for (const { node } of d.receipts.edges) {
        const paid = node.payments.reduce((a: number, p: any) => a + p.amountMinor, 0);
        expect(paid).toBe(node.totalMinor);
      }
      for (const { node } of d.forecasts.edges) expect(node.p10).toBeLessThanOrEqual(node.p90);
      expect(d.syncRuns.edges[0].node.counters.elevations_synced).toBe(17);
    });
  });

  describe('Relay pagination, filters and ordering', () => {
    const page = async (args: string) =>
      (await gql(s.url, s.adminKey, `{ elevations(${args}) { totalCount edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`)).body;

    it('walks forward with first/after without gaps or repeats', async () => {
      const seen: string[] = [];
      const ids: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const b = await page(`first: 5${after ? `, after: "${after}"` : ''}, filter: {}, orderBy: { field: NAME, direction: ASC }`);
        expect(b.errors).toBeUndefined();
        seen.push(...b.data.elevations.edges.map((e: any) => e.node.name));
        ids.push(...b.data.elevations.edges.map((e: any) => e.node.id));
        after = b.data.elevations.pageInfo.hasNextPage ? b.data.elevations.pageInfo.endCursor : null;
        pages++;
      } while (after && pages < 20);
      const total = (await page('first: 1')).data.elevations.totalCount;
      expect(seen).toHaveLength(total);
      expect(new Set(ids).size).toBe(total); // names repeat across projects; ids do not
      expect([...seen]).toEqual([...seen].sort());
    });

    it('walks backward with last/before', async () => {
      const all = (await page('first: 500')).data.elevations.edges.map((e: any) => e.node.name);
      const tail = (await page('last: 3')).data.elevations;
      expect(tail.edges.map((e: any) => e.node.name)).toEqual(all.slice(-3));
      expect(tail.pageInfo.hasPreviousPage).toBe(true);
      const before = (await page(`last: 2, before: "${tail.pageInfo.startCursor}"`)).data.elevations;
      expect(before.edges.map((e: any) => e.node.name)).toEqual(all.slice(-5, -3));
    });

    it('orders descending and filters', async () => {
      const desc = (await page('first: 3, orderBy: { field: NAME, direction: DESC }')).data.elevations.edges.map((e: any) => e.node.name);
      expect(desc).toEqual([...desc].sort().reverse());
      const r = await gql(s.url, s.adminKey, '{ projects(first: 10, filter: { search: "dos22" }) { totalCount edges { node { name } } } }');
      expect(r.body.data.projects.totalCount).toBeGreaterThanOrEqual(1);
      const none = await gql(s.url, s.adminKey, '{ projects(first: 10, filter: { directoryPath: "No such dir" }) { totalCount edges { node { name } } } }');
      expect(none.body.data.projects).toEqual({ totalCount: 0, edges: [] });
    });

    it('rejects a forged cursor and an oversized page with BAD_USER_INPUT', async () => {
      const bad = await page('first: 2, after: "not-a-cursor"');
      expect(bad.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const big = await page('first: 100000');
      expect(big.errors[0].extensions.code).toMatch(/BAD_USER_INPUT|QUERY_TOO_COMPLEX/);
    });
  });

  describe('errors and limits', () => {
    it('answers NOT_FOUND for a missing entity', async () => {
      const r = await gql(s.url, s.adminKey, '{ project(guid: "00000000-0000-0000-0000-00000000beef") { name } }');
      expect(r.body.errors[0].extensions.code).toBe('NOT_FOUND');
    });

    it('answers BAD_USER_INPUT for a malformed id and a bad date', async () => {
      const r = await gql(s.url, s.adminKey, '{ syncRun(id: "abc") { id } }');
      expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const d = await gql(s.url, s.adminKey, '{ sales(from: "2026-13-45", to: "2026-01-01") { date } }');
      expect(d.body.errors[0].extensions.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    });

    it('refuses queries deeper than the limit with QUERY_TOO_DEEP', async () => {
      const deep = '{ projects(first: 1) { edges { node { phases { project { phases { project { phases { project { name } } } } } } } } } }';
      const r = await gql(s.url, s.adminKey, deep);
      expect(r.status).toBe(400);
      expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_DEEP');
    });

    it('refuses too complex queries with QUERY_TOO_COMPLEX but allows introspection', async () => {
      const wide = '{ projects(first: 500) { edges { node { phases { elevations { parts { articleCode } } } } } } }';
      const r = await gql(s.url, s.adminKey, wide);
      expect(r.status).toBe(400);
      expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
      const intro = await gql(s.url, s.adminKey, '{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }');
      expect(intro.body.errors).toBeUndefined();
    });

    it('never leaks internals for unexpected failures', async () => {
      const r = await gql(s.url, s.adminKey, '{ syncRun(id: 999999) { id } }');
      expect(r.body.errors[0].extensions.code).toBe('NOT_FOUND');
      expect(JSON.stringify(r.body)).not.toMatch(/stacktrace|at .*\.ts:/);
    });
  });
});
