/**
 * iiko sync end to end: the real middleware (GraphQL, JSON-RPC, database) against two iiko
 * simulators over real HTTP, on SQLite and PostgreSQL — department trees (any order, any depth,
 * every root marker, cycles, failing servers, departments gone upstream) and daily sales
 * (idempotent, resumable). Plus the pure tree builder.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildHierarchy, HierarchyError } from '../src/integrations/iiko/hierarchy';
import { firstDay } from '../src/integrations/iiko/sync';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createIikoClients } from '../src/services/iiko';
import {
  generateDepartments, generateSales, IIKO_REAL_LATENCY_MS, startIikoSimulator, type IikoSimData, type IikoSimulator, type SalesGenerator,
} from '../src/integrations/iiko/simulator';
import type { RawDepartment } from '../src/integrations/iiko/xml';
import { DB_KINDS } from './helpers/db';
import { gql, rpc, startTestServer, type TestServer } from './helpers/server';
import { follow } from './helpers/progress';

const ZERO = '00000000-0000-0000-0000-000000000000';

const dep = (id: string, parentId: string | null, type = 'DEPARTMENT'): RawDepartment => ({ id, parentId, code: null, name: `n-${id}`, type, taxpayerId: null });

describe('buildHierarchy', () => {
  it('puts parents before children whatever the input order, with depths', () => {
    const list = generateDepartments({ count: 500, seed: 3, shuffle: true, depth: 9 });
    const { nodes, rootsFromMissingParent } = buildHierarchy(list);
    expect(nodes).toHaveLength(500);
    expect(rootsFromMissingParent).toBe(0);
    const pos = new Map(nodes.map((n, i) => [n.id, i]));
    const byId = new Map(nodes.map((n) => [n.id, n]));
    for (const n of nodes) {
      if (n.parentGuid === null) {
        expect(n.depth).toBe(0);
        continue;
      }
      expect(pos.get(n.parentGuid)!).toBeLessThan(pos.get(n.id)!);
      expect(n.depth).toBe(byId.get(n.parentGuid)!.depth + 1);
    }
    expect(Math.max(...nodes.map((n) => n.depth))).toBe(9);
  });

  it('treats "0", "", the zero GUID, null and unknown parents as roots; lower-cases GUIDs', () => {
    const { nodes, rootsFromMissingParent } = buildHierarchy([
      dep('A1', '0'), dep('a2', ''), dep('a3', ZERO), dep('a4', null), dep('a5', 'not-listed'),
      dep('{B1}', 'A1'), dep('b2', '{A2}'),
    ]);
    expect(nodes.filter((n) => n.parentGuid === null).map((n) => n.id).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(rootsFromMissingParent).toBe(1);
    expect(nodes.find((n) => n.id === 'b1')).toMatchObject({ parentGuid: 'a1', depth: 1 });
    expect(nodes.find((n) => n.id === 'b2')).toMatchObject({ parentGuid: 'a2', depth: 1 });
  });

  it('refuses cycles, naming the ids in them', () => {
    const cycle = () => buildHierarchy([dep('r', null), dep('a', 'b'), dep('b', 'a'), dep('c', 'a'), dep('d', 'r')]);
    expect(cycle).toThrow(HierarchyError);
    try {
      cycle();
    } catch (e) {
      expect((e as HierarchyError).problem).toBe('cycle');
      expect([...(e as HierarchyError).ids].sort()).toEqual(['a', 'b']);
      expect((e as Error).message).toMatch(/\ba\b.*\bb\b|\bb\b.*\ba\b/);
    }
    expect(() => buildHierarchy([dep('self', 'SELF')])).toThrow(/cycle: self/);
    // A long cycle far from the root, found without recursion.
    const long = Array.from({ length: 5000 }, (_, i) => dep(`n${i}`, `n${(i + 1) % 5000}`));
    expect(() => buildHierarchy(long)).toThrow(HierarchyError);
  });

  it('refuses repeated and unusable ids', () => {
    expect(() => buildHierarchy([dep('a', null), dep('A', null)])).toThrow(/more than once: a/);
    expect(() => buildHierarchy([dep('', null)])).toThrow(HierarchyError);
  });
});

describe('the first day a sales import fetches', () => {
  const range = { from: '2026-01-01', to: '2026-01-31' };
  const opts = { resume: true, repullDays: 2, today: '2026-06-01' };
  it('resumes after the checkpoint of the range', () => {
    expect(firstDay(range, null, opts)).toBe('2026-01-01');
    expect(firstDay(range, '2026-01-05', opts)).toBe('2026-01-06');
    expect(firstDay(range, '2026-01-31', opts)).toBeNull(); // done
    expect(firstDay(range, '2025-12-01', opts)).toBe('2026-01-01'); // a cursor outside the range is ignored
    expect(firstDay(range, '2026-01-05', { ...opts, resume: false })).toBe('2026-01-01');
  });
  it('always fetches the last IIKO_SALES_REPULL_DAYS days before today again', () => {
    const recent = { ...opts, today: '2026-02-01' };
    expect(firstDay(range, '2026-01-31', recent)).toBe('2026-01-30');
    expect(firstDay(range, '2026-01-20', recent)).toBe('2026-01-21');
    expect(firstDay(range, '2026-01-31', { ...recent, repullDays: 0 })).toBeNull();
    expect(firstDay({ from: '2026-01-31', to: '2026-01-31' }, '2026-01-31', { ...recent, repullDays: 10 })).toBe('2026-01-31');
  });
});

// ---------------------------------------------------------------------------------------------
// End to end

const MAIN_LOGIN = { login: 'odoo', password: 'main-pass' };
const SECOND_LOGIN = { login: 'odoo2', password: 'second-pass' };

const call = async (s: TestServer, method: string, params: Record<string, unknown>, key = s.adminKey) => {
  const r = await rpc(s.url, key, { jsonrpc: '2.0', id: 1, method, params });
  return r.body;
};

async function waitRun(s: TestServer, runId: number): Promise<any> {
  for (let i = 0; i < 3000; i++) {
    const r = (await call(s, 'sync.status', { run_id: runId })).result;
    if (!['queued', 'running'].includes(r.status)) return r;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`run ${runId} did not finish`);
}

async function syncDepartments(s: TestServer, server?: string): Promise<any> {
  const r = await call(s, 'iiko.sync_departments', server ? { server } : {});
  expect(r.error).toBeUndefined();
  return waitRun(s, r.result.run_id);
}

async function importSales(s: TestServer, params: Record<string, unknown>): Promise<any> {
  const r = await call(s, 'iiko.import_sales', params);
  expect(r.error).toBeUndefined();
  return waitRun(s, r.result.run_id);
}

/** Every department of a server as stored, by guid, with its parent's guid resolved through parent_id. */
async function stored(s: TestServer, server: string): Promise<Map<string, any>> {
  const rows = await s.companion.db('departments').where({ sourceServer: server }).orderBy('id');
  const byId = new Map(rows.map((r: any) => [r.id, r]));
  return new Map(rows.map((r: any) => [r.guid, { ...r, parentIdGuid: r.parentId ? byId.get(r.parentId)?.guid ?? '?' : null }]));
}

/** The stored tree is exactly the simulator's list: same items, each under its listed parent. */
async function expectTree(s: TestServer, server: string, list: RawDepartment[], roots: (d: RawDepartment) => boolean = (d) => !d.parentId || d.parentId === '0' || d.parentId === ZERO) {
  const rows = await stored(s, server);
  const live = [...rows.values()].filter((r) => r.removedAt === null);
  expect(live).toHaveLength(list.length);
  for (const d of list) {
    const r = rows.get(d.id.toLowerCase());
    expect(r, d.id).toBeDefined();
    expect(r).toMatchObject({ name: d.name, type: d.type, code: d.code, taxpayerId: d.taxpayerId, removedAt: null });
    const parent = roots(d) ? null : d.parentId!.toLowerCase();
    expect(r.parentGuid).toBe(parent);
    expect(r.parentIdGuid).toBe(parent);
  }
}


const salesTotals = (gen: SalesGenerator, days: string[], known: Set<string>) => {
  const out = new Map<string, { quantity: number; amountMinor: number }>();
  for (const day of days) {
    for (const r of gen.day(day)) {
      if (!known.has(r.departmentId)) continue;
      const k = `${r.departmentId}|${day}`;
      const t = out.get(k) ?? { quantity: 0, amountMinor: 0 };
      t.quantity += r.quantity;
      t.amountMinor += Math.round(r.amount * 100);
      out.set(k, t);
    }
  }
  return out;
};

const daysOf = (from: string, n: number) => Array.from({ length: n }, (_, i) => new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));

describe.each(DB_KINDS)('iiko sync on %s', (db) => {
  let main: IikoSimulator;
  let second: IikoSimulator;
  let s: TestServer;
  // main: a deep tree listed children first; second: a small tree whose root says parentId "0".
  const mainList = generateDepartments({ count: 400, seed: 7, shuffle: true, depth: 8 });
  const secondList = generateDepartments({ count: 60, seed: 9, rootParent: '0' });
  const secondShops = secondList.filter((d) => d.type === 'DEPARTMENT').map((d) => d.id);
  const UNKNOWN_SHOP = 'deadbeef-0000-4000-8000-000000000001';
  const sales = generateSales({ departments: [...secondShops, UNKNOWN_SHOP], dishes: 12, from: '2025-03-01', to: '2025-04-30', seed: 5 });
  const data = (departments: RawDepartment[], salesData: IikoSimData['sales'] = []): IikoSimData => ({ departments, sales: salesData });

  beforeAll(async () => {
    main = await startIikoSimulator({ data: data(mainList), latencyScale: 0, ...MAIN_LOGIN });
    second = await startIikoSimulator({ data: data(secondList, sales), latencyScale: 0, ...SECOND_LOGIN });
    s = await startTestServer({
      db,
      seed: false,
      env: {
        IIKO_SERVERS: 'main,second',
        IIKO_MAIN_URL: main.url, IIKO_MAIN_LOGIN: MAIN_LOGIN.login, IIKO_MAIN_PASSWORD: MAIN_LOGIN.password,
        IIKO_SECOND_URL: second.url, IIKO_SECOND_LOGIN: SECOND_LOGIN.login, IIKO_SECOND_PASSWORD: SECOND_LOGIN.password,
        IIKO_TIMEOUT_MS: '1000', IIKO_RETRIES: '1',
      },
    });
  });
  afterAll(async () => {
    await s?.close();
    await main?.close();
    await second?.close();
  });
  afterEach(() => {
    // Whatever a test did, no licence seat may be left taken on either server.
    expect(main.stats().liveTokens).toBe(0);
    expect(second.stats().liveTokens).toBe(0);
    main.setFaults(undefined);
    second.setFaults(undefined);
    main.setOptions({ ...MAIN_LOGIN, seats: 1 });
    second.setOptions({ ...SECOND_LOGIN, seats: 1 });
    main.data = data(mainList);
    second.data = data(secondList, sales);
  });

  it('first sync over GraphQL: both trees stored with their parents, whatever the order and depth', async () => {
    const r = await gql(s.url, s.adminKey, 'mutation { syncIikoDepartments { id status kind target } }');
    expect(r.body.errors).toBeUndefined();
    const run = r.body.data.syncIikoDepartments;
    expect(run).toMatchObject({ kind: 'iiko.departments', target: 'all' });
    const events = await follow(s, run.id);
    const last = events[events.length - 1];
    expect(last.status).toBe('SUCCEEDED');
    expect(last.counters).toMatchObject({ servers_succeeded: 2, servers_failed: 0, departments_listed: 460, departments_added: 460, departments_removed: 0 });
    expect(events.filter((e) => e.step === 'server').map((e) => e.message.split(':')[0]).sort()).toEqual(['main', 'second']);
    await expectTree(s, 'main', mainList);
    await expectTree(s, 'second', secondList);
    expect(main.stats().logins).toBe(main.stats().logouts);

    // The read side sees the trees: GraphQL departmentTree (depth, type filter) and JSON-RPC departments.tree.
    const flat = (await gql(s.url, s.adminKey, '{ departmentTree(sourceServer: "main") { id parentId depth type } }')).body.data.departmentTree;
    expect(flat).toHaveLength(400);
    expect(Math.max(...flat.map((n: any) => n.depth))).toBe(8);
    expect(flat.filter((n: any) => n.parentId === null)).toHaveLength(1);
    const shallow = (await gql(s.url, s.adminKey, '{ departmentTree(sourceServer: "main", maxDepth: 1) { depth } }')).body.data.departmentTree;
    expect(shallow.every((n: any) => n.depth <= 1)).toBe(true);
    const typed = (await gql(s.url, s.adminKey, '{ departmentTree(sourceServer: "second", types: ["STORE"]) { type } }')).body.data.departmentTree;
    expect(typed.filter((n: any) => n.type === 'STORE')).toHaveLength(secondList.filter((d) => d.type === 'STORE').length);
    const tree = (await call(s, 'departments.tree', { source_server: 'second' })).result;
    expect(tree).toHaveLength(1);
    expect(tree[0]).toMatchObject({ type: 'CORPORATION', depth: 0 });
    const count = (n: any): number => 1 + n.children.reduce((a: number, c: any) => a + count(c), 0);
    expect(count(tree[0])).toBe(60);
  });

  it('a re-sync with nothing changed adds nothing and changes no parent', async () => {
    const before = await stored(s, 'main');
    const run = await syncDepartments(s, 'main');
    expect(run).toMatchObject({ status: 'succeeded', target: 'main' });
    expect(run.counters).toMatchObject({ servers_total: 1, departments_listed: 400, departments_added: 0, departments_removed: 0 });
    const after = await stored(s, 'main');
    for (const [guid, r] of before) expect({ ...after.get(guid), syncedAt: 0, updatedAt: 0 }).toEqual({ ...r, syncedAt: 0, updatedAt: 0 });
  });

  it.each([
    ['empty element', ''],
    ['"0"', '0'],
    ['the zero GUID', 'zero-guid'],
    ['no element', 'missing'],
  ] as const)('a root marked by %s is stored as a root', async (_label, rootParent) => {
    // The same tree as secondList (same seed), listed children first, with another root marker.
    const list = generateDepartments({ count: 60, seed: 9, rootParent, shuffle: true });
    expect(new Set(list.map((d) => d.id))).toEqual(new Set(secondList.map((d) => d.id)));
    second.data = data(list);
    const run = await syncDepartments(s, 'second');
    expect(run.status).toBe('succeeded');
    expect(run.counters).toMatchObject({ roots_from_missing_parent: 0, departments_removed: 0 });
    await expectTree(s, 'second', list);
    const roots = (await s.companion.db('departments').where({ sourceServer: 'second' }).whereNull('removedAt').whereNull('parentId')) as any[];
    expect(roots).toHaveLength(1);
    expect(roots[0]).toMatchObject({ type: 'CORPORATION', parentGuid: null });
  });

  it('departments gone upstream are marked removed and hidden from the tree; they come back when listed again', async () => {
    await syncDepartments(s, 'second');
    // Drop three leaves and one department with children: its children now name an unknown parent.
    const parents = new Set(secondList.map((d) => d.parentId));
    const inner = secondList.find((d) => d.type === 'DEPARTMENT' && parents.has(d.id))!;
    const leaves = secondList.filter((d) => !parents.has(d.id) && d.parentId !== inner.id).slice(0, 3);
    const gone = new Set([...leaves.map((d) => d.id), inner.id]);
    second.data = data(secondList.filter((d) => !gone.has(d.id)));
    const run = await syncDepartments(s, 'second');
    expect(run.status).toBe('succeeded');
    const orphans = secondList.filter((d) => d.parentId === inner.id).length;
    expect(orphans).toBeGreaterThan(0);
    expect(run.counters).toMatchObject({ departments_listed: 56, departments_removed: 4, roots_from_missing_parent: orphans });
    const rows = await stored(s, 'second');
    for (const id of gone) expect(rows.get(id)!.removedAt).not.toBeNull();
    for (const d of secondList.filter((x) => x.parentId === inner.id)) expect(rows.get(d.id)).toMatchObject({ parentId: null, parentGuid: null, removedAt: null });

    const tree = (await call(s, 'departments.tree', { source_server: 'second' })).result;
    const ids = new Set<number>();
    const walk = (n: any) => (ids.add(n.id), n.children.forEach(walk));
    tree.forEach(walk);
    expect(ids.size).toBe(56);
    for (const id of gone) expect(ids.has(rows.get(id)!.id)).toBe(false);
    const gqlTree = (await gql(s.url, s.adminKey, '{ departmentTree(sourceServer: "second") { id } }')).body.data.departmentTree;
    expect(gqlTree).toHaveLength(56);
    const withRemoved = (await gql(s.url, s.adminKey, '{ departments(first: 100, filter: { sourceServer: "second", includeRemoved: true }) { edges { node { id } } } }')).body.data.departments.edges;
    expect(withRemoved).toHaveLength(60);
    // Asked for, the removed ones are there on both transports too.
    expect((await gql(s.url, s.adminKey, '{ departmentTree(sourceServer: "second", includeRemoved: true) { id } }')).body.data.departmentTree).toHaveLength(60);
    const all = (await call(s, 'departments.tree', { source_server: 'second', include_removed: true })).result;
    const allIds = new Set<number>();
    const walkAll = (n: any) => (allIds.add(n.id), n.children.forEach(walkAll));
    all.forEach(walkAll);
    expect(allIds.size).toBe(60);

    second.data = data(secondList);
    const back = await syncDepartments(s, 'second');
    expect(back.counters).toMatchObject({ departments_removed: 0, departments_restored: 4, departments_added: 0 });
    await expectTree(s, 'second', secondList);
  });

  it('a cycle fails that server only: its previous rows stay, the other server syncs', async () => {
    await syncDepartments(s);
    const mainBefore = await stored(s, 'main');
    const secondBefore = await stored(s, 'second');
    const parents = new Set(mainList.map((d) => d.parentId));
    const [a, b] = mainList.filter((d) => !parents.has(d.id)).slice(0, 2);
    main.data = data(mainList.map((d) => (d.id === a.id ? { ...d, parentId: b.id, name: 'changed' } : d.id === b.id ? { ...d, parentId: a.id } : d)));
    second.data = data(secondList.map((d, i) => (i === 5 ? { ...d, name: 'Новое имя & Ко' } : d)));
    const run = await syncDepartments(s);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^main: cycle/);
    expect(run.error).toContain(a.id);
    expect(run.error).toContain(b.id);
    expect(run.counters).toMatchObject({ servers_succeeded: 1, servers_failed: 1 });
    expect(await stored(s, 'main')).toEqual(mainBefore);
    const secondAfter = await stored(s, 'second');
    expect(secondAfter.get(secondList[5].id).name).toBe('Новое имя & Ко');
    expect(secondAfter.get(secondList[0].id).syncedAt).not.toBe(secondBefore.get(secondList[0].id).syncedAt);
    const events = (await s.companion.db('syncEvents').where({ runId: run.id }).orderBy('seq')) as any[];
    expect(events.find((e) => e.step === 'server-failed').message).toMatch(/^main: cycle/);
  });

  it.each([
    ['wrong credentials', (sim: IikoSimulator) => sim.setOptions({ password: 'changed upstream' }), /IikoAuthError/],
    ['no free licence seat', (sim: IikoSimulator) => sim.setOptions({ seats: 0 }), /IikoLicenceError/],
    ['malformed XML', (sim: IikoSimulator) => sim.setFaults({ malformedXml: true }), /malformed/],
    ['an entity bomb', (sim: IikoSimulator) => sim.setFaults({ hostileXml: 'entity-bomb' }), /entities/],
    ['an external entity', (sim: IikoSimulator) => sim.setFaults({ hostileXml: 'external-entity' }), /entities/],
    ['a huge document', (sim: IikoSimulator) => sim.setFaults({ hostileXml: 'huge' }), /too_large/],
    ['a timeout', (sim: IikoSimulator) => sim.setFaults({ timeout: { op: 'departments' } }), /timeout/],
  ] as const)('%s on one server: the other syncs, the failing one keeps its rows', async (_label, breakIt, expected) => {
    await syncDepartments(s);
    const secondBefore = await stored(s, 'second');
    main.data = data(mainList.map((d, i) => (i === 0 ? { ...d, name: `renamed ${Date.now()}` } : d)));
    second.data = data(secondList.map((d, i) => (i === 0 ? { ...d, name: 'must not arrive' } : d)));
    breakIt(second);
    const run = await syncDepartments(s);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^second: /);
    expect(run.error).toMatch(expected);
    expect(run.error).not.toContain(SECOND_LOGIN.password);
    expect(run.counters).toMatchObject({ servers_succeeded: 1, servers_failed: 1, departments_listed: 400 });
    expect(await stored(s, 'second')).toEqual(secondBefore);
    expect((await stored(s, 'main')).get(mainList[0].id.toLowerCase()).name).toBe(main.data.departments[0].name);
  });

  it('two concurrent requests share one run', async () => {
    main.setOptions({ latencyScale: 0.2 });
    try {
      const [a, b] = await Promise.all([call(s, 'iiko.sync_departments', {}), call(s, 'iiko.sync_departments', {})]);
      expect(a.result.run_id).toBe(b.result.run_id);
      expect([a.result.joined, b.result.joined].sort()).toEqual([false, true]);
      expect((await waitRun(s, a.result.run_id)).status).toBe('succeeded');
    } finally {
      main.setOptions({ latencyScale: 0 });
    }
  });

  it('validates input, naming the field, and checks the scope', async () => {
    const bad = async (params: Record<string, unknown>) => (await call(s, 'iiko.import_sales', params)).error;
    expect((await bad({ from: '2025-02-30', to: '2025-03-01' })).data.problems[0].field).toBe('from');
    expect((await bad({ from: '2025-03-02', to: '2025-03-01' })).data.problems[0].field).toBe('from');
    expect((await bad({ from: '2020-01-01', to: '2023-01-01' })).data.problems[0].field).toBe('to');
    expect((await bad({ from: '2025-01-01', to: '2025-01-02', server: 'third' })).data.problems[0].field).toBe('server');
    expect((await call(s, 'iiko.sync_departments', { server: 'third' })).error.data.problems[0].field).toBe('server');
    const g = await gql(s.url, s.adminKey, 'mutation { importIikoSales(from: "2025-03-10", to: "2025-03-01") { id } }');
    expect(g.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', problems: [{ field: 'from' }] });
    const reader = await s.key(['read']);
    expect((await call(s, 'iiko.sync_departments', {}, reader)).error.data.code).toBe('FORBIDDEN');
    const denied = await gql(s.url, reader, 'mutation { syncIikoDepartments { id } }');
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('sales: imported day by day, rows of unknown departments skipped, visible over GraphQL and JSON-RPC', async () => {
    await syncDepartments(s, 'second');
    const before = second.stats().olapRequests;
    const r = await gql(s.url, s.adminKey, 'mutation { importIikoSales(from: "2025-03-01", to: "2025-03-10", server: "second") { id target } }');
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.importIikoSales.target).toBe('second:2025-03-01..2025-03-10');
    const run = await waitRun(s, Number(r.body.data.importIikoSales.id));
    expect(run.status).toBe('succeeded');
    expect(second.stats().olapRequests - before).toBe(10);
    const days = daysOf('2025-03-01', 10);
    const unknownRows = days.reduce((n, d) => n + sales.day(d).filter((x) => x.departmentId === UNKNOWN_SHOP).length, 0);
    const knownRows = days.reduce((n, d) => n + sales.day(d).length, 0) - unknownRows;
    expect(unknownRows).toBeGreaterThan(0);
    expect(run.counters).toMatchObject({ days_imported: 10, rows_upserted: knownRows, rows_skipped_unknown_department: unknownRows });
    expect(Number((await s.companion.db('dailySales').count({ n: '*' }).first())!.n)).toBe(knownRows);

    const ids = new Map([...(await stored(s, 'second')).values()].map((d) => [d.id, d.guid]));
    const expected = salesTotals(sales, days, new Set(secondShops));
    const daily = (await call(s, 'sales.daily', { from: '2025-03-01', to: '2025-03-10' })).result;
    expect(daily).toHaveLength(expected.size);
    for (const row of daily) {
      const e = expected.get(`${ids.get(row.department_id)}|${row.date}`)!;
      expect(row.quantity).toBeCloseTo(e.quantity, 6);
      expect(row.amount_minor).toBe(e.amountMinor);
    }
    const shop = [...ids.entries()].find(([, g]) => g === secondShops[0])![0];
    const g = (await gql(s.url, s.adminKey, `{ sales(from: "2025-03-03", to: "2025-03-03", departmentIds: ["${shop}"], byProduct: true) { date departmentId productCode quantity amountMinor } }`)).body.data.sales;
    const dayRows = sales.day('2025-03-03').filter((x) => x.departmentId === secondShops[0]);
    expect(g).toHaveLength(dayRows.length);
    for (const x of dayRows) {
      expect(g.find((y: any) => y.productCode === x.dishCode)).toMatchObject({ date: '2025-03-03', quantity: x.quantity, amountMinor: Math.round(x.amount * 100) });
    }
  });

  it('sales: importing the same range again changes nothing', async () => {
    await syncDepartments(s, 'second');
    const first = await importSales(s, { from: '2025-03-01', to: '2025-03-05', server: 'second', resume: false });
    expect(first.status).toBe('succeeded');
    const snapshot = await s.companion.db('dailySales').orderBy('id');
    const again = await importSales(s, { from: '2025-03-01', to: '2025-03-05', server: 'second', resume: false });
    expect(again.status).toBe('succeeded');
    expect(again.counters).toEqual(first.counters);
    expect(await s.companion.db('dailySales').orderBy('id')).toEqual(snapshot);
    // With resume (the default) a completed range has nothing left to import.
    const olap = second.stats().olapRequests;
    const resumed = await importSales(s, { from: '2025-03-01', to: '2025-03-05', server: 'second' });
    expect(resumed.counters).toMatchObject({ days_total: 0, days_imported: 0 });
    expect(second.stats().olapRequests).toBe(olap);
  });

  it('sales: a re-import deletes the lines the server no longer reports for that day', async () => {
    await syncDepartments(s, 'second');
    await importSales(s, { from: '2025-03-20', to: '2025-03-21', server: 'second', resume: false });
    const dish = sales.dishes[0]!.code;
    const count = async (date: string) => Number((await s.companion.db('dailySales').where({ date, productCode: dish }).count({ n: '*' }).first())!.n);
    const before = await count('2025-03-21');
    expect(before).toBeGreaterThan(0);
    const other = await count('2025-03-20');
    // An order of that dish on 21 March was cancelled after the first import.
    second.data = data(secondList, { ...sales, day: (d: string) => sales.day(d).filter((r) => !(d === '2025-03-21' && r.dishCode === dish)) });
    const run = await importSales(s, { from: '2025-03-20', to: '2025-03-21', server: 'second', resume: false });
    expect(run.status).toBe('succeeded');
    expect(run.counters.rows_deleted).toBe(before);
    expect(await count('2025-03-21')).toBe(0);
    expect(await count('2025-03-20')).toBe(other);
  });

  it('sales: a failure on day 6 stops there; resume imports from day 6 only', async () => {
    await syncDepartments(s, 'second');
    const days = daysOf('2025-04-01', 10);
    const failing = { ...sales, day: (d: string) => (d === days[5] ? (() => { throw new Error('OLAP engine crashed'); })() : sales.day(d)) };
    second.data = data(secondList, failing);
    const target = 'second:2025-04-01..2025-04-10';
    let olap = second.stats().olapRequests;
    const failed = await importSales(s, { from: days[0], to: days[9], server: 'second' });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^second: day 2025-04-06: /);
    expect(failed.counters).toMatchObject({ days_imported: 5, servers_failed: 1 });
    expect(second.stats().olapRequests - olap).toBe(5);
    expect(await s.companion.db('syncCheckpoints').where({ kind: 'iiko.sales', target }).first()).toMatchObject({ cursor: '2025-04-05' });
    const storedDays = async () => ((await s.companion.db('dailySales').whereBetween('date', [days[0], days[9]]).distinct('date').orderBy('date')) as any[]).map((r) => r.date);
    expect(await storedDays()).toEqual(days.slice(0, 5));

    second.data = data(secondList, sales);
    olap = second.stats().olapRequests;
    const resumed = await importSales(s, { from: days[0], to: days[9], server: 'second', resume: true });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.counters).toMatchObject({ days_total: 5, days_imported: 5 });
    expect(second.stats().olapRequests - olap).toBe(5);
    expect(await storedDays()).toEqual(days);
    expect(await s.companion.db('syncCheckpoints').where({ kind: 'iiko.sales', target }).first()).toMatchObject({ cursor: '2025-04-10' });
  });

  it('sales: a cancelled import stops at the next day, logs out, and resumes from there', async () => {
    await syncDepartments(s, 'second');
    second.setOptions({ latencyScale: 0.02 }); // 30 ms per OLAP day
    try {
      const started = (await call(s, 'iiko.import_sales', { from: '2025-04-01', to: '2025-04-30', server: 'second', resume: false })).result;
      for (let i = 0; i < 500; i++) {
        const st = (await call(s, 'sync.status', { run_id: started.run_id })).result;
        if (st.done >= 3 || st.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect((await call(s, 'sync.cancel', { run_id: started.run_id })).result.status).toBe('cancelled');
      // The job notices at its next day and ends its session (the seat is checked in afterEach).
      for (let i = 0; i < 500 && s.companion.services.jobs.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(s.companion.services.jobs.size).toBe(0);
      const cursor = (await s.companion.db('syncCheckpoints').where({ kind: 'iiko.sales', target: 'second:2025-04-01..2025-04-30' }).first()).cursor;
      expect(cursor >= '2025-04-03' && cursor < '2025-04-30').toBe(true);
      second.setOptions({ latencyScale: 0 });
      const resumed = await importSales(s, { from: '2025-04-01', to: '2025-04-30', server: 'second' });
      expect(resumed.status).toBe('succeeded');
      expect(resumed.counters.days_total).toBe(daysOf(cursor, 31).indexOf('2025-04-30'));
    } finally {
      second.setOptions({ latencyScale: 0 });
    }
  });

  /**
   * Starts an import of `second` whose first day's report takes 20 s upstream, and resolves
   * once that report request has reached the simulator (logged in, request in flight).
   */
  async function reportInFlight(srv: TestServer, range: { from: string; to: string }): Promise<{ runId: number; target: string }> {
    second.setOptions({ latencyScale: 1, latencyMs: { olap: 20_000 } });
    const olapBefore = second.stats().requests['olap'] ?? 0;
    const started = (await call(srv, 'iiko.import_sales', { ...range, server: 'second', resume: false })).result;
    for (let i = 0; i < 500 && (second.stats().requests['olap'] ?? 0) === olapBefore; i++) await sleep(10);
    expect(second.stats().requests['olap']).toBe(olapBefore + 1);
    expect(second.stats().liveTokens).toBe(1);
    return { runId: started.run_id, target: `second:${range.from}..${range.to}` };
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const resetLatency = () => second.setOptions({ latencyScale: 0, latencyMs: { olap: IIKO_REAL_LATENCY_MS.olap } });

  it('sales: a cancel drops the day report in flight at once, logs out, and checkpoints nothing', async () => {
    await syncDepartments(s, 'second');
    try {
      const before = second.stats();
      const { runId, target } = await reportInFlight(s, { from: '2025-05-01', to: '2025-05-03' });
      const t0 = Date.now();
      expect((await call(s, 'sync.cancel', { run_id: runId })).result.status).toBe('cancelled');
      for (let i = 0; i < 300 && s.companion.services.jobs.size > 0; i++) await sleep(10);
      expect(s.companion.services.jobs.size).toBe(0);
      expect(Date.now() - t0).toBeLessThan(2_000); // not the 20 s the report would have taken
      expect(second.stats()).toMatchObject({ liveTokens: 0, logouts: before.logouts + 1 }); // the seat is given back
      expect(second.stats().olapRequests).toBe(before.olapRequests); // the report was never answered
      const run = (await call(s, 'sync.status', { run_id: runId })).result;
      expect(run).toMatchObject({ status: 'cancelled', counters: { days_imported: 0 } });
      expect(await s.companion.db('syncCheckpoints').where({ kind: 'iiko.sales', target }).first()).toBeUndefined();
    } finally {
      resetLatency();
    }
  });

  it('sales: a graceful stop (SIGINT / SIGTERM) drops the day report in flight, logs out, and marks the run interrupted', async () => {
    // A companion of its own: after jobs.stop() a runner accepts no new jobs.
    const own = await startTestServer({
      db,
      seed: false,
      env: { IIKO_SERVERS: 'second', IIKO_SECOND_URL: second.url, IIKO_SECOND_LOGIN: SECOND_LOGIN.login, IIKO_SECOND_PASSWORD: SECOND_LOGIN.password },
    });
    try {
      const before = second.stats();
      const { runId, target } = await reportInFlight(own, { from: '2025-05-01', to: '2025-05-03' });
      const t0 = Date.now();
      await own.companion.services.jobs.stop(10_000); // what the CLI and `serve` do on a signal
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(own.companion.services.jobs.size).toBe(0);
      expect(second.stats()).toMatchObject({ liveTokens: 0, logouts: before.logouts + 1, olapRequests: before.olapRequests });
      const run = (await call(own, 'sync.status', { run_id: runId })).result;
      expect(run).toMatchObject({ status: 'interrupted', error: 'shutting down', counters: { days_imported: 0 } });
      expect(await own.companion.db('syncCheckpoints').where({ kind: 'iiko.sales', target }).first()).toBeUndefined();
    } finally {
      resetLatency();
      await own.close();
    }
  });

  it('sales of every server: a server that fails does not stop the other', async () => {
    await syncDepartments(s);
    main.setOptions({ password: 'rotated' });
    const run = await importSales(s, { from: '2025-03-01', to: '2025-03-02', resume: false });
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^main: .*IikoAuthError/);
    expect(run.counters).toMatchObject({ servers_succeeded: 1, servers_failed: 1, days_imported: 2 });
  });
});

describe('iiko configuration', () => {
  const base = { DATA_DIR: '/tmp/unused' };
  it('reads one block of variables per listed server, names upper-cased', () => {
    const c = loadConfig({
      ...base, IIKO_SERVERS: 'main, iiko-second', IIKO_MAIN_URL: 'https://main.iiko.it/resto', IIKO_MAIN_LOGIN: 'a', IIKO_MAIN_PASSWORD: 'b',
      IIKO_IIKO_SECOND_URL: 'http://10.0.0.5:8080', IIKO_IIKO_SECOND_LOGIN: 'c', IIKO_IIKO_SECOND_PASSWORD: 'd', IIKO_SALES_REPULL_DAYS: '3',
    });
    expect(c.iiko.servers.map((x) => [x.name, x.url, x.login])).toEqual([['main', 'https://main.iiko.it/resto', 'a'], ['iiko-second', 'http://10.0.0.5:8080', 'c']]);
    expect(c.iiko).toMatchObject({ salesRepullDays: 3, timeoutMs: 30_000, olapTimeoutMs: 120_000 });
    expect(loadConfig(base).iiko.servers).toEqual([]);
    expect(loadConfig(base).iiko.salesRepullDays).toBe(2);
  });
  it('reads the unverified behaviour per server (login method, deleted-lines filter, token reuse) and hands it to the client', () => {
    const server = { IIKO_SERVERS: 'main,old', IIKO_MAIN_URL: 'https://m.iiko.it/resto', IIKO_MAIN_LOGIN: 'a', IIKO_MAIN_PASSWORD: 'b', IIKO_OLD_URL: 'http://10.0.0.9:8080/resto', IIKO_OLD_LOGIN: 'c', IIKO_OLD_PASSWORD: 'd' };
    const c = loadConfig({ ...base, ...server, IIKO_OLD_AUTH_METHOD: 'get', IIKO_OLD_EXCLUDE_DELETED: 'false', IIKO_OLD_TOKEN_REUSE_MS: '0' });
    expect(c.iiko.servers[0]).not.toHaveProperty('authMethod');
    expect(c.iiko.servers[1]).toMatchObject({ authMethod: 'GET', excludeDeleted: false, tokenReuseMs: 0 });
    const [main, old] = createIikoClients(c.iiko, createLogger('silent'));
    try {
      expect(main!.config).toMatchObject({ authMethod: 'POST', excludeDeleted: true, tokenReuseMs: 20 * 60_000 });
      expect(old!.config).toMatchObject({ authMethod: 'GET', excludeDeleted: false, tokenReuseMs: 0 });
    } finally {
      main!.close();
      old!.close();
    }
    expect(() => loadConfig({ ...base, ...server, IIKO_OLD_AUTH_METHOD: 'PUT' })).toThrow(/IIKO_OLD_AUTH_METHOD: must be POST or GET/);
    expect(() => loadConfig({ ...base, ...server, IIKO_MAIN_EXCLUDE_DELETED: 'maybe' })).toThrow(/IIKO_MAIN_EXCLUDE_DELETED: must be true or false/);
    expect(() => loadConfig({ ...base, ...server, IIKO_MAIN_TOKEN_REUSE_MS: '-5' })).toThrow(/IIKO_MAIN_TOKEN_REUSE_MS/);
  });
  it('names each missing or bad variable', () => {
    expect(() => loadConfig({ ...base, IIKO_SERVERS: 'main', IIKO_MAIN_URL: 'https://x', IIKO_MAIN_LOGIN: 'a' })).toThrow(/IIKO_MAIN_PASSWORD: required/);
    expect(() => loadConfig({ ...base, IIKO_SERVERS: 'main,second' })).toThrow(/IIKO_SECOND_URL: required/);
    expect(() => loadConfig({ ...base, IIKO_SERVERS: 'main', IIKO_MAIN_URL: 'not a url', IIKO_MAIN_LOGIN: 'a', IIKO_MAIN_PASSWORD: 'b' })).toThrow(/IIKO_MAIN_URL: must be a URL/);
    expect(() => loadConfig({ ...base, IIKO_SERVERS: 'a-b,a_b' })).toThrow(/both read IIKO_A_B_/);
    expect(() => loadConfig({ ...base, IIKO_SALES_REPULL_DAYS: '-1' })).toThrow(/IIKO_SALES_REPULL_DAYS/);
  });
});

describe('iiko not configured', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ db: 'sqlite', seed: false });
  });
  afterAll(async () => s?.close());

  it('answers UNAVAILABLE on both transports', async () => {
    expect((await call(s, 'iiko.sync_departments', {})).error.data.code).toBe('UNAVAILABLE');
    expect((await call(s, 'iiko.import_sales', { from: '2025-01-01', to: '2025-01-02' })).error.data.code).toBe('UNAVAILABLE');
    const g = await gql(s.url, s.adminKey, 'mutation { syncIikoDepartments { id } }');
    expect(g.body.errors[0].extensions.code).toBe('UNAVAILABLE');
  });
});
