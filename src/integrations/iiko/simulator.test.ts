/**
 * The iiko simulator over real HTTP (raw requests, no client): auth with SHA-1 and licence
 * seats, logout, token expiry, the departments XML, SALES OLAP semantics, generated data,
 * faults, latency, and the demo servers matching the demo seed's data.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { demoIikoData, DEMO_IIKO_SALES_DAYS } from './demo-data';
import { isLicenceRefusal } from './errors';
import {
  demoIikoServers,
  generateDepartments,
  generateSales,
  startIikoSimulator,
  type IikoSimData,
  type IikoSimulator,
  type IikoSimulatorOptions,
} from './simulator';
import { parseDepartmentsXml, type RawDepartment } from './xml';

const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex');

let sims: IikoSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

const DEPTS: RawDepartment[] = [
  { id: 'aaaaaaaa-0000-4000-8000-000000000001', parentId: null, code: null, name: 'ГК «Тест»', type: 'CORPORATION', taxpayerId: null },
  { id: 'aaaaaaaa-0000-4000-8000-000000000002', parentId: 'aaaaaaaa-0000-4000-8000-000000000001', code: 'J1', name: 'ООО «Рога & Копыта»', type: 'JURPERSON', taxpayerId: '7707083893' },
  { id: 'aaaaaaaa-0000-4000-8000-000000000003', parentId: 'aaaaaaaa-0000-4000-8000-000000000002', code: '101', name: 'Кафе <Арбат>', type: 'DEPARTMENT', taxpayerId: '7707083893' },
  { id: 'aaaaaaaa-0000-4000-8000-000000000004', parentId: 'aaaaaaaa-0000-4000-8000-000000000002', code: '102', name: 'Бар «Ёж»', type: 'DEPARTMENT', taxpayerId: '7707083893' },
];
const D3 = DEPTS[2]!.id;
const D4 = DEPTS[3]!.id;
const row = (date: string, departmentId: string, dish: string, quantity: number, amount: number, discount = 0) => ({
  date, departmentId, dishId: `dddddddd-0000-4000-8000-00000000${dish.padStart(4, '0')}`, dishCode: dish, dishName: `Блюдо ${dish}`, quantity, amount, discount,
});
const SALES = [
  row('2026-03-07', D3, '1', 10, 1000),
  row('2026-03-08', D3, '1', 20, 2000.5, 100),
  row('2026-03-08', D3, '2', 3.25, 325.75),
  row('2026-03-08', D4, '1', 5, 500),
  row('2026-03-09', D4, '2', 1, 100),
];

async function start(opts: IikoSimulatorOptions = {}): Promise<IikoSimulator> {
  const sim = await startIikoSimulator({ latencyScale: 0, data: { departments: structuredClone(DEPTS), sales: structuredClone(SALES) }, ...opts });
  sims.push(sim);
  return sim;
}

async function get(sim: IikoSimulator, path: string, init: RequestInit = {}) {
  const res = await fetch(sim.url + path, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function login(sim: IikoSimulator, login = 'admin', password = 'secret'): Promise<string> {
  const r = await get(sim, `/resto/api/auth?login=${login}&pass=${sha1(password)}`);
  expect(r.status).toBe(200);
  return r.text;
}

function olap(sim: IikoSimulator, key: string, body: unknown) {
  return get(sim, `/resto/api/v2/reports/olap?key=${key}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

const dayFilter = (from: string, to: string, extra: Record<string, unknown> = {}) => ({
  'OpenDate.Typed': { filterType: 'DateRange', periodType: 'CUSTOM', from, to, includeLow: true, includeHigh: false, ...extra },
});

describe('iiko simulator: auth, seats, tokens', () => {
  it('logs in with GET or POST (form body) and the SHA-1 in either case; the token is plain text', async () => {
    const sim = await start({ seats: 3 });
    const t1 = await login(sim);
    expect(t1).toMatch(/^[0-9a-f-]{36}$/);
    const r2 = await get(sim, '/resto/api/auth', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `login=admin&pass=${sha1('secret').toUpperCase()}` });
    expect(r2).toMatchObject({ status: 200, type: expect.stringContaining('text/plain') });
    expect(r2.text).not.toBe(t1);
    expect(sim.stats()).toMatchObject({ liveTokens: 2, peakTokens: 2, logins: 2 });
  });

  it('bad credentials → 401 plain text; a plain password instead of its hash is bad too', async () => {
    const sim = await start();
    for (const q of [`login=admin&pass=${sha1('wrong')}`, 'login=admin&pass=secret', `login=root&pass=${sha1('secret')}`, 'login=admin']) {
      const r = await get(sim, `/resto/api/auth?${q}`);
      expect(r.status).toBe(401);
      expect(r.type).toContain('text/plain');
      expect(r.text).toBe('Invalid login or password');
    }
    expect(sim.stats()).toMatchObject({ liveTokens: 0, logins: 0, badCredentials: 4 });
  });

  it('refuses a login beyond the seats with a licence text; logout frees the seat; unknown keys get 401', async () => {
    const sim = await start({ seats: 1 });
    const t = await login(sim);
    const refused = await get(sim, `/resto/api/auth?login=admin&pass=${sha1('secret')}`);
    expect(refused.status).toBe(409);
    expect(refused.text).toMatch(/License enhancement is required: no free connections/);
    expect(isLicenceRefusal(refused.status, refused.text)).toBe(true);
    expect(isLicenceRefusal(401, 'Invalid login or password')).toBe(false);
    expect(sim.stats()).toMatchObject({ liveTokens: 1, refusedLogins: 1 });

    expect(await get(sim, `/resto/api/logout?key=${t}`)).toMatchObject({ status: 200, text: '' });
    expect(sim.stats()).toMatchObject({ liveTokens: 0, logouts: 1 });
    expect((await get(sim, `/resto/api/logout?key=${t}`)).status).toBe(401);
    expect((await get(sim, `/resto/api/corporation/departments?key=${t}`)).status).toBe(401);
    expect((await get(sim, '/resto/api/corporation/departments')).text).toBe('Token is expired or invalid');

    // POST logout with a form body, and the key as a cookie
    const t2 = await login(sim);
    expect((await get(sim, '/resto/api/corporation/departments', { headers: { Cookie: `key=${t2}` } })).status).toBe(200);
    expect((await get(sim, '/resto/api/logout', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `key=${t2}` })).status).toBe(200);
    expect(sim.stats()).toMatchObject({ liveTokens: 0, logouts: 2, peakTokens: 1 });
  });

  it('tokens expire after tokenTtlMs (sliding with activity by default, or fixed); expireAllTokens', async () => {
    const sim = await start({ seats: 2, tokenTtlMs: 400 });
    const t = await login(sim);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 150));
      expect((await get(sim, `/resto/api/corporation/departments?key=${t}`)).status).toBe(200); // activity keeps it alive
    }
    await new Promise((r) => setTimeout(r, 500));
    expect((await get(sim, `/resto/api/corporation/departments?key=${t}`)).status).toBe(401);
    expect(sim.stats()).toMatchObject({ liveTokens: 0, expiredTokens: 1 });

    sim.setOptions({ tokenTtlMode: 'fixed' });
    const f = await login(sim);
    await new Promise((r) => setTimeout(r, 150));
    expect((await get(sim, `/resto/api/corporation/departments?key=${f}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect((await get(sim, `/resto/api/corporation/departments?key=${f}`)).status).toBe(401);

    sim.setOptions({ tokenTtlMs: 60_000 });
    const a = await login(sim);
    await login(sim);
    expect(sim.stats().liveTokens).toBe(2);
    sim.expireAllTokens();
    expect(sim.stats().liveTokens).toBe(0);
    expect((await get(sim, `/resto/api/corporation/departments?key=${a}`)).status).toBe(401);
  });

  it('answers 404 for unknown paths and 405 for a wrong method', async () => {
    const sim = await start();
    expect((await get(sim, '/resto/api/corporation/stores')).status).toBe(404);
    expect((await get(sim, '/resto/api/v2/reports/olap')).status).toBe(405);
    expect(sim.stats().requests).toMatchObject({ unknown: 1, olap: 1 });
  });
});

describe('iiko simulator: departments', () => {
  it('serves <corporateItemDtoes> in data order, escaped, with the JURPERSON tax id nested by default', async () => {
    const sim = await start();
    const key = await login(sim);
    const r = await get(sim, `/resto/api/corporation/departments?key=${key}`);
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/xml');
    expect(r.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8" standalone="yes"\?>\n<corporateItemDtoes>/);
    expect(r.text).toContain('<name>ООО «Рога &amp; Копыта»</name>');
    expect(r.text).toContain('<name>Кафе &lt;Арбат&gt;</name>');
    expect(r.text).toContain('<jurPersonAdditionalPropertiesDto>');
    expect(parseDepartmentsXml(r.text)).toEqual(DEPTS);

    sim.setOptions({ jurTaxpayer: 'top' });
    const top = await get(sim, `/resto/api/corporation/departments?key=${key}`);
    expect(top.text).not.toContain('jurPersonAdditionalPropertiesDto');
    expect(parseDepartmentsXml(top.text)).toEqual(DEPTS);

    sim.data.departments = [];
    expect(parseDepartmentsXml((await get(sim, `/resto/api/corporation/departments?key=${key}`)).text)).toEqual([]);
  });
});

describe('iiko simulator: SALES OLAP', () => {
  it('answers one day with exactly the requested keys, in order, summed per group', async () => {
    const sim = await start();
    const key = await login(sim);
    const r = await olap(sim, key, {
      reportType: 'SALES', buildSummary: 'false', groupByColFields: [],
      groupByRowFields: ['DishName', 'OpenDate.Typed', 'Department', 'Department.Id', 'Department.Code', 'DishId', 'DishCode'],
      aggregateFields: ['DishSumInt', 'DishAmountInt', 'DishDiscountSumInt'],
      filters: dayFilter('2026-03-08', '2026-03-09'),
    });
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/json');
    const body = JSON.parse(r.text) as { data: Array<Record<string, unknown>>; summary: unknown[] };
    expect(body.summary).toEqual([]);
    expect(body.data).toHaveLength(3);
    expect(Object.keys(body.data[0]!)).toEqual(['DishName', 'OpenDate.Typed', 'Department', 'Department.Id', 'Department.Code', 'DishId', 'DishCode', 'DishSumInt', 'DishAmountInt', 'DishDiscountSumInt']);
    expect(body.data[0]).toEqual({
      DishName: 'Блюдо 1', 'OpenDate.Typed': '2026-03-08', Department: 'Кафе <Арбат>', 'Department.Id': D3, 'Department.Code': '101',
      DishId: 'dddddddd-0000-4000-8000-000000000001', DishCode: '1', DishSumInt: 2000.5, DishAmountInt: 20, DishDiscountSumInt: 1900.5,
    });
    expect(sim.stats()).toMatchObject({ olapRequests: 1, olapRows: 3 });
  });

  it('groups by fewer fields (sums), honours includeLow/includeHigh, date-times and value filters', async () => {
    const sim = await start();
    const key = await login(sim);
    const q = async (filters: Record<string, unknown>, groupByRowFields = ['OpenDate.Typed'], aggregateFields = ['DishAmountInt', 'DishSumInt']) => {
      const r = await olap(sim, key, { reportType: 'SALES', groupByRowFields, aggregateFields, filters });
      expect(r.status, r.text).toBe(200);
      return (JSON.parse(r.text) as { data: Array<Record<string, unknown>> }).data;
    };
    expect(await q(dayFilter('2026-03-08', '2026-03-09'))).toEqual([{ 'OpenDate.Typed': '2026-03-08', DishAmountInt: 28.25, DishSumInt: 2826.25 }]);
    const days = async (f: Record<string, unknown>) => (await q(f)).map((r) => r['OpenDate.Typed']).sort();
    expect(await days(dayFilter('2026-03-07', '2026-03-09'))).toEqual(['2026-03-07', '2026-03-08']);
    expect(await days(dayFilter('2026-03-07', '2026-03-09', { includeHigh: true }))).toEqual(['2026-03-07', '2026-03-08', '2026-03-09']);
    expect(await days(dayFilter('2026-03-07', '2026-03-09', { includeLow: false, includeHigh: true }))).toEqual(['2026-03-08', '2026-03-09']);
    expect(await days(dayFilter('2026-03-07T00:00:00.000', '2026-03-08T00:00:00.000'))).toEqual(['2026-03-07']);
    expect(await days(dayFilter('2026-03-07T12:00:00', '2026-03-08T12:00:00'))).toEqual(['2026-03-08']);
    expect(await days(dayFilter('2026-03-10', '2026-03-20'))).toEqual([]);
    // value filters, and the usual "not deleted" filters
    const byDept = await q(
      { ...dayFilter('2026-03-01', '2026-03-31'), 'Department.Id': { filterType: 'IncludeValues', values: [D4.toUpperCase()] }, DeletedWithWriteoff: { filterType: 'IncludeValues', values: ['NOT_DELETED'] }, OrderDeleted: { filterType: 'IncludeValues', values: ['NOT_DELETED'] } },
      ['Department'],
      ['DishAmountInt'],
    );
    expect(byDept).toEqual([{ Department: 'Бар «Ёж»', DishAmountInt: 6 }]);
    expect(await q({ ...dayFilter('2026-03-01', '2026-03-31'), DishCode: { filterType: 'ExcludeValues', values: ['1'] } }, ['DishCode'], ['DishSumInt'])).toEqual([{ DishCode: '2', DishSumInt: 425.75 }]);
    expect(await q({ ...dayFilter('2026-03-01', '2026-03-31'), OrderDeleted: { filterType: 'IncludeValues', values: ['DELETED'] } })).toEqual([]);
  });

  it('refuses unknown fields and bad requests with 400 plain text', async () => {
    const sim = await start();
    const key = await login(sim);
    const base = { reportType: 'SALES', groupByRowFields: ['OpenDate.Typed'], aggregateFields: ['DishAmountInt'], filters: dayFilter('2026-03-08', '2026-03-09') };
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, groupByRowFields: ['DishGroup.Secret'] }, /Unknown OLAP field "DishGroup.Secret"/],
      [{ ...base, aggregateFields: ['Nope'] }, /Unknown OLAP field "Nope"/],
      [{ ...base, aggregateFields: ['DishName'] }, /cannot be aggregated/],
      [{ ...base, filters: { ...base.filters, Foo: { filterType: 'IncludeValues', values: ['x'] } } }, /Unknown OLAP field "Foo"/],
      [{ ...base, filters: {} }, /OpenDate.Typed filter/],
      [{ ...base, filters: dayFilter('08.03.2026', '2026-03-09') }, /from\/to/],
      [{ ...base, filters: { 'OpenDate.Typed': { filterType: 'DateRange', periodType: 'LAST_WEEK', from: '2026-03-08', to: '2026-03-09' } } }, /periodType/],
      [{ ...base, reportType: 'TRANSACTIONS' }, /Unsupported report type/],
      [{ ...base, groupByColFields: ['DishName'] }, /groupByColFields/],
      [{ ...base, aggregateFields: ['DishAmountInt', 'DishAmountInt'] }, /twice/],
    ];
    for (const [body, re] of cases) {
      const r = await olap(sim, key, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.type).toContain('text/plain');
      expect(r.text).toMatch(re);
    }
    const notJson = await get(sim, `/resto/api/v2/reports/olap?key=${key}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"reportType":' });
    expect(notJson).toMatchObject({ status: 400, text: 'Request body is not valid JSON' });
    expect((await olap(sim, 'not-a-token', base)).status).toBe(401);
  });
});

describe('iiko simulator: generated data', () => {
  it('generateDepartments: exact count, one root, valid tree, deterministic; shuffle lists children first', () => {
    for (const opts of [{ count: 1 }, { count: 52, depth: 3 }, { count: 500, depth: 5, typesMix: true }, { count: 10_000, seed: 9 }, { count: 40, depth: 1 }, { count: 40, depth: 2 }]) {
      const list = generateDepartments(opts);
      expect(list).toHaveLength(opts.count);
      expect(generateDepartments(opts)).toEqual(list);
      const ids = new Set(list.map((d) => d.id));
      expect(ids.size).toBe(list.length);
      const roots = list.filter((d) => d.type === 'CORPORATION');
      expect(roots).toHaveLength(1);
      expect(roots[0]!.parentId).toBe('');
      for (const d of list) {
        expect(d.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        if (d !== roots[0]) expect(ids.has(d.parentId!), d.name).toBe(true);
      }
      // parents first by default
      const seen = new Set<string>();
      for (const d of list) {
        if (d.type !== 'CORPORATION') expect(seen.has(d.parentId!)).toBe(true);
        seen.add(d.id);
      }
    }
    const deep = generateDepartments({ count: 400, depth: 6, typesMix: true });
    expect(new Set(deep.map((d) => d.type))).toEqual(new Set(['CORPORATION', 'CENTRALOFFICE', 'CENTRALSTORE', 'JURPERSON', 'ORGDEVELOPMENT', 'DEPARTMENT', 'STORE', 'SALEPOINT', 'MANUFACTURE']));
    const jurs = deep.filter((d) => d.type === 'JURPERSON');
    for (const j of jurs) expect(j.taxpayerId).toMatch(/^(\d{10}|\d{12})$/);
    expect(deep.some((d) => d.name.includes('&'))).toBe(true);

    const shuffled = generateDepartments({ count: 200, shuffle: true, seed: 2 });
    const pos = new Map(shuffled.map((d, i) => [d.id, i]));
    for (const d of shuffled) if (d.parentId && pos.has(d.parentId)) expect(pos.get(d.parentId)!).toBeGreaterThan(pos.get(d.id)!);
    expect(new Set(shuffled.map((d) => d.id))).toEqual(new Set(generateDepartments({ count: 200, seed: 2 }).map((d) => d.id)));

    expect(generateDepartments({ count: 3, rootParent: '0' })[0]!.parentId).toBe('0');
    expect(generateDepartments({ count: 3, rootParent: 'zero-guid' })[0]!.parentId).toBe('00000000-0000-0000-0000-000000000000');
    expect(generateDepartments({ count: 3, rootParent: 'missing' })[0]!.parentId).toBeNull();
  });

  it('generateSales: deterministic, lazy per day, with weekly and yearly seasonality, holidays and a trend', () => {
    const departments = Array.from({ length: 50 }, (_, i) => `eeeeeeee-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const gen = generateSales({ departments, dishes: 200, from: '2025-01-01', to: '2026-12-31', seed: 5 });
    expect(gen.dishes).toHaveLength(200);
    expect(new Set(gen.dishes.map((d) => d.code)).size).toBe(200);
    expect(new Set(gen.dishes.map((d) => d.name)).size).toBe(200);
    expect(gen.day('2024-12-31')).toEqual([]);
    expect(gen.day('2027-01-01')).toEqual([]);
    expect(gen.day('not a day')).toEqual([]);

    const t0 = performance.now();
    const day = gen.day('2026-03-10');
    const ms = performance.now() - t0;
    console.log(`generateSales: one day of 50 × 200 = ${day.length} rows in ${ms.toFixed(1)} ms`);
    expect(day.length).toBeGreaterThan(9_000);
    expect(day.length).toBeLessThanOrEqual(10_000);
    expect(generateSales({ departments, dishes: 200, from: '2025-01-01', to: '2026-12-31', seed: 5 }).day('2026-03-10')).toEqual(day);
    expect(generateSales({ departments, dishes: 200, from: '2025-01-01', to: '2026-12-31', seed: 6 }).day('2026-03-10')).not.toEqual(day);
    for (const r of day.slice(0, 500)) {
      expect(r.quantity).toBeGreaterThan(0);
      expect(Math.round(r.amount * 100)).toBeCloseTo(r.amount * 100, 6);
      expect(r.discount).toBeLessThanOrEqual(r.amount);
    }
    expect(day.some((r) => !Number.isInteger(r.quantity))).toBe(true); // dishes sold by weight

    const total = (d: string) => gen.day(d).reduce((s, r) => s + r.amount, 0);
    // Holidays: 8 March is well above the Tuesdays around it; 1 January is a dip.
    expect(total('2026-03-08')).toBeGreaterThan(1.25 * total('2026-03-01'));
    expect(total('2026-01-01')).toBeLessThan(0.6 * total('2025-12-25'));
    expect(total('2026-05-09')).toBeGreaterThan(1.2 * total('2026-05-16'));
    // The weekly profile is far from flat; summer is above winter; the trend is up year on year.
    const week = Array.from({ length: 7 }, (_, i) => gen.factor(`2026-09-${String(7 + i).padStart(2, '0')}`, 0));
    expect(Math.max(...week) / Math.min(...week)).toBeGreaterThan(1.4);
    expect(gen.factor('2026-06-24') / gen.factor('2026-12-16')).toBeGreaterThan(1.15); // both Wednesdays
    expect(gen.factor('2026-10-14') / gen.factor('2025-10-15')).toBeGreaterThan(1.05); // both Wednesdays
  });

  it('serves one OLAP day of 50 × 200 rows from a generator quickly', async () => {
    const departments = generateDepartments({ count: 250, seed: 4 }).filter((d) => d.type === 'DEPARTMENT').slice(0, 50);
    expect(departments).toHaveLength(50);
    const sales = generateSales({ departments: departments.map((d) => d.id), dishes: 200, from: '2025-01-01', to: '2025-12-31' });
    const sim = await start({ data: { departments: generateDepartments({ count: 250, seed: 4 }), sales } });
    const key = await login(sim);
    const body = {
      reportType: 'SALES', buildSummary: false, groupByColFields: [],
      groupByRowFields: ['OpenDate.Typed', 'Department.Id', 'DishId', 'DishCode', 'DishName'],
      aggregateFields: ['DishAmountInt', 'DishSumInt'],
      filters: dayFilter('2025-06-02', '2025-06-03'),
    };
    await olap(sim, key, body); // warm-up
    const t0 = performance.now();
    const r = await olap(sim, key, body);
    const ms = performance.now() - t0;
    const data = (JSON.parse(r.text) as { data: unknown[] }).data;
    console.log(`simulator: OLAP day of ${data.length} rows (${(r.text.length / 1e6).toFixed(2)} MB) served in ${ms.toFixed(0)} ms`);
    expect(data).toHaveLength(sales.day('2025-06-02').length);
    expect(ms).toBeLessThan(2000);
  });
});

describe('iiko simulator: faults and latency', () => {
  it('injects 5xx (503, an HTML 502, 500) without performing the operation', async () => {
    const sim = await start({ faults: { status5xx: { op: 'auth', times: 3 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await get(sim, `/resto/api/auth?login=admin&pass=${sha1('secret')}`);
      statuses.push(r.status);
      if (r.status === 502) expect(r.text).toContain('<html>');
    }
    expect(statuses).toEqual([503, 502, 500]);
    expect(sim.stats()).toMatchObject({ logins: 0, liveTokens: 0, faults: { status5xx: 3 } });
    await login(sim);
  });

  it('holds timed-out requests (not performed) and truncates bodies after performing', async () => {
    const sim = await start({ seats: 2, faults: { timeout: { op: 'auth', times: 1 } } });
    const ac = new AbortController();
    const held = fetch(`${sim.url}/resto/api/auth?login=admin&pass=${sha1('secret')}`, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 150));
    ac.abort();
    await expect(held).rejects.toThrow();
    expect(sim.stats()).toMatchObject({ logins: 0, faults: { timeout: 1 } });

    sim.setFaults({ truncateBody: { op: 'auth', times: 1 } });
    await expect(fetch(`${sim.url}/resto/api/auth?login=admin&pass=${sha1('secret')}`).then((r) => r.text())).rejects.toThrow();
    expect(sim.stats()).toMatchObject({ logins: 1, liveTokens: 1, faults: { truncateBody: 1 } }); // the seat is taken
  });

  it('serves malformed and hostile departments documents while the plan says so', async () => {
    const sim = await start({ hugeXmlBytes: 3 * 1024 * 1024 });
    const key = await login(sim);
    const fetchXml = () => get(sim, `/resto/api/corporation/departments?key=${key}`);
    sim.setFaults({ malformedXml: true });
    const bad = await fetchXml();
    expect(bad.status).toBe(200);
    expect(() => parseDepartmentsXml(bad.text)).toThrow(/malformed/);
    sim.setFaults({ hostileXml: 'entity-bomb' });
    expect((await fetchXml()).text).toContain('<!ENTITY lol9');
    sim.setFaults({ hostileXml: 'external-entity' });
    expect((await fetchXml()).text).toContain('SYSTEM "file:///etc/passwd"');
    sim.setFaults({ hostileXml: 'huge' });
    const res = await fetch(`${sim.url}/resto/api/corporation/departments?key=${key}`);
    expect(res.headers.get('content-length')).toBeNull();
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    sim.setFaults(undefined);
    expect(parseDepartmentsXml((await fetchXml()).text)).toEqual(DEPTS);
    expect(sim.stats().faults).toMatchObject({ malformedXml: 1, hostileXml: 3 });
  });

  it('latency is per operation, scaled, and does not block other requests', async () => {
    const sim = await start({ seats: 5, latencyScale: 1, latencyMs: { auth: 0, departments: 200, olap: 0 } });
    const key = await login(sim);
    const t0 = performance.now();
    await Promise.all([1, 2, 3].map(() => get(sim, `/resto/api/corporation/departments?key=${key}`)));
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(550); // serialised would be ≥ 600
    sim.setOptions({ latencyScale: 0.1 });
    const t1 = performance.now();
    await get(sim, `/resto/api/corporation/departments?key=${key}`);
    expect(performance.now() - t1).toBeLessThan(150);
  });
});

describe('iiko simulator: the demo servers', () => {
  it('serve exactly the demo seed data set: 52 + 22 departments and 6 × 10 × 90 sales', async () => {
    const servers = demoIikoServers();
    expect(servers.map((s) => s.name)).toEqual(['iiko-main', 'iiko-second']);
    expect(servers.map((s) => s.data.departments.length)).toEqual([52, 22]);
    const sales = (d: IikoSimData) => d.sales as Array<{ date: string; departmentId: string; dishCode: string }>;
    expect(sales(servers[0]!.data)).toHaveLength(4 * 10 * DEMO_IIKO_SALES_DAYS);
    expect(sales(servers[1]!.data)).toHaveLength(2 * 10 * DEMO_IIKO_SALES_DAYS);
    const data = demoIikoData();
    for (const [i, s] of servers.entries()) {
      expect(s.data.departments).toEqual(data[i]!.departments.map(({ depth: _d, ...d }) => d));
      expect(sales(s.data).map((r) => `${r.departmentId}/${r.dishCode}/${r.date}`)).toEqual(data[i]!.sales.map((r) => `${r.departmentId}/${r.dishCode}/${r.date}`));
    }
    expect(demoIikoServers()).toEqual(servers); // deterministic
    const dates = [...new Set(sales(servers[0]!.data).map((r) => r.date))].sort();
    expect([dates[0], dates.at(-1)]).toEqual(['2026-08-03', '2026-10-31']);

    const sim = await startIikoSimulator({ latencyScale: 0, data: servers[1]!.data, login: 'demo', password: 'demo' });
    sims.push(sim);
    const key = await login(sim, 'demo', 'demo');
    const xml = await get(sim, `/resto/api/corporation/departments?key=${key}`);
    expect(parseDepartmentsXml(xml.text)).toEqual(servers[1]!.data.departments);
    const r = await olap(sim, key, { reportType: 'SALES', groupByRowFields: ['Department.Id', 'DishCode'], aggregateFields: ['DishAmountInt', 'DishSumInt'], filters: dayFilter('2026-10-31', '2026-11-01') });
    const rows = (JSON.parse(r.text) as { data: Array<Record<string, number | string>> }).data;
    expect(rows).toHaveLength(2 * 10);
    const want = data[1]!.sales.filter((s) => s.date === '2026-10-31');
    for (const w of want) {
      const got = rows.find((x) => x['Department.Id'] === w.departmentId && x.DishCode === w.dishCode)!;
      expect(got.DishAmountInt).toBe(w.quantity);
      expect(Math.round(Number(got.DishSumInt) * 100)).toBe(w.amountMinor);
    }
  });
});
