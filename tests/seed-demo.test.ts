/**
 * The demo seed on both databases: shape and counts of the data set, referential integrity of
 * the iiko trees, money that adds up, ordered forecast quantiles, valid EAN-13 codes, ISO
 * timestamps everywhere, determinism, and the refusal to seed twice. PostgreSQL is required:
 * if it cannot be reached the suite fails (it never skips).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, it as vitestIt } from 'vitest';
import type { DatabaseConfig } from '../src/config';
import { createKnex, ensureSchema, type Knex } from '../src/db/knex';
import { migrateLatest } from '../src/db/migrate';
import { NULL_GUID } from '../src/db/time';
import { isDemoSeeded, seedDemo, type DemoSummary } from '../seeds';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Tables with their expected row counts where the brief fixes them. */
const TABLES: Array<keyof DemoSummary> = [
  'directories', 'projects', 'phases', 'elevations', 'elevation_glass', 'elevation_parts', 'departments',
  'daily_sales', 'products', 'stock_levels', 'marketplace_mappings', 'receipts', 'receipt_attempts',
  'model_versions', 'forecasts', 'sync_runs', 'sync_events',
];
/** Columns holding timestamps (camelCase, as the snake-case mappers return them). */
const TIMESTAMP_KEY = /(At|Date)$/;

function validEan13(code: string): boolean {
  if (!/^\d{13}$/.test(code)) return false;
  const d = [...code].map(Number);
  const sum = d.slice(0, 12).reduce((s, x, i) => s + x * (i % 2 === 0 ? 1 : 3), 0);
  return (10 - (sum % 10)) % 10 === d[12];
}

function validInn(inn: string): boolean {
  const d = [...inn].map(Number);
  const check = (n: number, w: number[]) => (w.reduce((s, x, i) => s + x * d[i]!, 0) % 11) % 10 === d[n];
  if (/^\d{10}$/.test(inn)) return check(9, [2, 4, 10, 3, 5, 9, 4, 6, 8]);
  if (/^\d{12}$/.test(inn)) return check(10, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) && check(11, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
  return false;
}

/** JSON columns come back parsed from PostgreSQL and as text from SQLite. */
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

async function counts(db: Knex): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    const [row] = (await db(t).count({ n: '*' })) as Array<{ n: number | string }>;
    out[t] = Number(row!.n);
  }
  return out;
}

/** Every table's rows ordered by id, with timestamps normalised so both databases compare. */
async function dump(db: Knex): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) out[t] = await db(t).orderBy('id');
  return out;
}

interface Target {
  name: 'sqlite' | 'postgres';
  open(): Promise<{ db: Knex; close(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-demo-'));
      const config: DatabaseConfig = { client: 'sqlite', connection: path.join(dir, 'demo.sqlite'), poolMax: 1 };
      const db = createKnex(config);
      await migrateLatest(db);
      return {
        db,
        close: async () => {
          await db.destroy();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `seed_demo_${process.pid}_${randomBytes(4).toString('hex')}`;
      const config: DatabaseConfig = { client: 'postgres', connection: PG_URL, schema, poolMax: 2 };
      const db = createKnex(config);
      try {
        await ensureSchema(db, config); // throws (and fails the suite) when PostgreSQL is unreachable
        await migrateLatest(db);
      } catch (err) {
        await db.destroy();
        throw new Error(`PostgreSQL at ${PG_URL} is required for this test: ${(err as Error).message}`);
      }
      return {
        db,
        close: async () => {
          try {
            await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
          } finally {
            await db.destroy();
          }
        },
      };
    },
  },
];

describe.each(targets)('demo seed on $name', (target) => {
  let db: Knex;
  let close: (() => Promise<void>) | undefined;
  let summary: DemoSummary;
  // Set-up errors (PostgreSQL unreachable, migration or seed failure) are rethrown by every
  // test, so each one FAILS instead of being reported as skipped by a failed beforeAll.
  let ready: Promise<void> = Promise.reject(new Error('set-up did not run'));
  ready.catch(() => {});

  beforeAll(async () => {
    ready = (async () => {
      ({ db, close } = await target.open());
      expect(await isDemoSeeded(db)).toBe(false);
      summary = await seedDemo(db);
    })();
    ready.catch(() => {});
    await ready.catch(() => {});
  });

  afterAll(async () => {
    await close?.();
  });

  const it = (name: string, fn: () => Promise<void>) =>
    vitestIt(name, async () => {
      await ready;
      await fn();
    });

  it('reports the rows it wrote, and they are in the tables', async () => {
    expect(await isDemoSeeded(db)).toBe(true);
    const actual = await counts(db);
    expect(actual).toEqual(summary);
    expect(summary).toMatchObject({
      directories: 1,
      projects: 2,
      phases: 3,
      elevations: 20,
      elevation_glass: 40,
      departments: 74,
      daily_sales: 6 * 10 * 90,
      products: 25,
      stock_levels: 50,
      receipts: 8,
      model_versions: 1,
      sync_runs: 1,
    });
    expect(summary.elevation_parts).toBeGreaterThanOrEqual(20 * 20);
    expect(summary.elevation_parts).toBeLessThanOrEqual(20 * 60);
    expect(summary.marketplace_mappings).toBeGreaterThan(0);
    expect(summary.forecasts).toBe(3 * 14 * 4);
  });

  it('has DOS22309 in "Demo Odoo" with 2 phases of 13 + 4 elevations', async () => {
    const projects = await db('projects').where({ name: 'DOS22309' });
    expect(projects).toHaveLength(1);
    const project = projects[0];
    expect(project.guid).toMatch(GUID);
    expect(project.jobNumber).toBeTruthy();
    expect(project.offerNumber).toBeTruthy();
    expect(project.personInCharge).toBeTruthy();
    const dir = await db('directories').where({ id: project.directoryId }).first();
    expect(dir).toMatchObject({ path: 'Demo Odoo', name: 'Demo Odoo', level: 0, parentId: null });

    const phases = await db('phases').where({ projectId: project.id }).orderBy('id');
    expect(phases).toHaveLength(2);
    const defaultPhase = phases.find((p) => p.logikalId === NULL_GUID);
    const other = phases.find((p) => p.logikalId !== NULL_GUID);
    expect(defaultPhase).toBeDefined();
    expect(other?.logikalId).toMatch(GUID);

    const byPhase = async (phaseId: number) => db('elevations').where({ phaseId }).orderBy('name');
    const inDefault = await byPhase(defaultPhase.id);
    const inOther = await byPhase(other.id);
    expect(inDefault).toHaveLength(13);
    expect(inOther).toHaveLength(4);
    const all = [...inDefault, ...inOther];
    expect(all.map((e) => e.name)).toEqual(Array.from({ length: 17 }, (_, i) => `P${String(i + 1).padStart(2, '0')}`));

    for (const e of all) {
      expect(e.guid).toMatch(GUID);
      expect(e.versionId).toMatch(GUID);
      expect(e.partsFileHash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.parseStatus).toBe('success');
      expect(e.widthOut).toBe(e.width);
      expect(e.widthUnit).toBe('mm');
      expect(e.heightUnit).toBe('mm');
      expect(e.weightUnit).toBe('kg');
      expect(e.areaOutput).toBeCloseTo((e.width * e.height) / 1e6, 2);
      expect(e.amount).toBeGreaterThanOrEqual(1);
      expect(e.systemName).toMatch(/^Reynaers /);
      const glass = await db('elevationGlass').where({ elevationId: e.id });
      expect(glass).toHaveLength(2);
      const parts = await db('elevationParts').where({ elevationId: e.id });
      expect(parts.length).toBeGreaterThanOrEqual(20);
      expect(parts.length).toBeLessThanOrEqual(60);
      expect(new Set(parts.map((p) => p.kind))).toEqual(new Set(['article', 'profile']));
      for (const p of parts) {
        if (p.priceMinor !== null) expect(Number.isInteger(p.priceMinor)).toBe(true);
        if (p.kind === 'profile') expect(p.length).toBeGreaterThan(0);
      }
    }
    expect(new Set(all.map((e) => e.systemName)).size).toBeGreaterThanOrEqual(3);
    const p11 = all.find((e) => e.name === 'P11');
    expect(p11).toMatchObject({ systemName: 'Reynaers ConceptPatio 130-LS (CP 130-LS)', width: 3100, height: 2245 });
  });

  it('has DOS22410 in "Demo Odoo" too, as the built-in Logikal simulator has it', async () => {
    const root = await db('directories').where({ path: 'Demo Odoo' }).first();
    const project = await db('projects').where({ name: 'DOS22410' }).first();
    expect(project.directoryId).toBe(root.id);
    const phases = await db('phases').where({ projectId: project.id });
    expect(phases).toHaveLength(1);
    expect(phases[0].logikalId).toBe(NULL_GUID);
    const elevations = await db('elevations').where({ phaseId: phases[0].id });
    expect(elevations).toHaveLength(3);
    expect(elevations.find((e) => e.name === 'P03')).toMatchObject({ systemName: 'Reynaers MasterLine 8', width: 2290, height: 1403 });
  });

  it('has two iiko trees of 52 and 22 departments with intact parent links', async () => {
    const rows = await db('departments').orderBy('id');
    const byServer = (s: string) => rows.filter((r) => r.sourceServer === s);
    expect(byServer('iiko-main')).toHaveLength(52);
    expect(byServer('iiko-second')).toHaveLength(22);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const allowed = ['CORPORATION', 'JURPERSON', 'ORGDEVELOPMENT', 'DEPARTMENT', 'MANUFACTURE', 'CENTRALSTORE', 'CENTRALOFFICE', 'SALEPOINT', 'STORE'];
    for (const server of ['iiko-main', 'iiko-second']) {
      const nodes = byServer(server);
      const roots = nodes.filter((n) => n.parentId === null);
      expect(roots).toHaveLength(1);
      expect(roots[0].type).toBe('CORPORATION');
      expect(roots[0].parentGuid).toBeNull();
      for (const n of nodes) {
        expect(n.guid).toMatch(GUID);
        expect(allowed).toContain(n.type);
        if (n.parentId === null) continue;
        const parent = byId.get(n.parentId);
        expect(parent, `parent of ${n.name}`).toBeDefined();
        expect(parent.sourceServer).toBe(server);
        expect(n.parentGuid).toBe(parent.guid);
        expect(parent.id).toBeLessThan(n.id); // parents inserted first
      }
      const types = new Set(nodes.map((n) => n.type));
      for (const t of ['JURPERSON', 'DEPARTMENT', 'STORE', 'SALEPOINT']) expect(types).toContain(t);
      const jur = nodes.filter((n) => n.type === 'JURPERSON');
      expect(jur.length).toBeGreaterThanOrEqual(1);
      for (const j of jur) {
        expect(j.taxpayerId).toMatch(/^(\d{10}|\d{12})$/);
        expect(validInn(j.taxpayerId)).toBe(true);
      }
    }
  });

  it('has 90 days of daily sales for 6 departments × 10 dishes, with weekly seasonality', async () => {
    const rows = await db('dailySales').select('departmentId', 'productCode', 'date', 'quantity', 'amountMinor');
    const dates = [...new Set(rows.map((r) => r.date))].sort();
    expect(dates).toHaveLength(90);
    expect(dates[0]).toBe('2026-08-03');
    expect(dates.at(-1)).toBe('2026-10-31');
    expect(new Set(rows.map((r) => r.departmentId)).size).toBe(6);
    expect(new Set(rows.map((r) => `${r.departmentId}/${r.productCode}`)).size).toBe(60);
    for (const r of rows) {
      expect(r.date).toMatch(DAY_RE);
      expect(Number.isInteger(Number(r.amountMinor))).toBe(true);
      expect(r.quantity).toBeGreaterThanOrEqual(0);
    }
    // departments are restaurants or coffee shops: the weekday profile is far from flat
    const perWeekday = Array.from({ length: 7 }, () => 0);
    for (const r of rows) perWeekday[new Date(`${r.date}T00:00:00Z`).getUTCDay()] += Number(r.quantity);
    expect(Math.max(...perWeekday) / Math.min(...perWeekday)).toBeGreaterThan(1.1);
  });

  it('has forecasts for 14 days with p10 <= p50 <= p90 from one model version', async () => {
    const models = await db('modelVersions');
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ name: 'sales-gbdt', version: '2026.11.1', algorithm: 'lightgbm-quantile' });
    const metrics = json<Record<string, number>>(models[0].metrics);
    expect(typeof metrics.wape).toBe('number');
    expect(typeof metrics.mase).toBe('number');

    const rows = await db('forecasts');
    const dates = [...new Set(rows.map((r) => r.date))].sort();
    expect(dates).toHaveLength(14);
    expect(dates[0]).toBe('2026-11-01');
    expect(new Set(rows.map((r) => r.departmentId)).size).toBe(3);
    expect(rows.filter((r) => r.productCode === null)).toHaveLength(3 * 14);
    for (const r of rows) {
      expect(r.modelVersionId).toBe(models[0].id);
      expect(r.p10).toBeLessThanOrEqual(r.p50);
      expect(r.p50).toBeLessThanOrEqual(r.p90);
      expect(r.p10).toBeGreaterThanOrEqual(0);
    }
    // a department total is at least the sum of the dish forecasts given for it
    const totals = rows.filter((r) => r.productCode === null);
    for (const t of totals) {
      const dishes = rows.filter((r) => r.departmentId === t.departmentId && r.date === t.date && r.productCode !== null);
      expect(dishes.length).toBeGreaterThan(0);
      expect(t.p50).toBeGreaterThanOrEqual(dishes.reduce((s, d) => s + d.p50, 0) - 0.5);
    }
  });

  it('has products with valid EAN-13 codes, stock in 2 locations and marketplace mappings', async () => {
    const products = await db('products');
    expect(new Set(products.map((p) => p.sku)).size).toBe(25);
    const eans: string[] = [];
    for (const p of products) {
      const codes = json<string[]>(p.eanCodes);
      expect(codes.length).toBeGreaterThanOrEqual(1);
      for (const c of codes) expect(validEan13(c), c).toBe(true);
      eans.push(...codes);
    }
    expect(new Set(eans).size).toBe(eans.length);

    const stock = await db('stockLevels');
    expect(new Set(stock.map((s) => s.location))).toEqual(new Set(['WH-MAIN', 'SHOP-1']));
    expect(stock).toHaveLength(50);

    const maps = await db('marketplaceMappings');
    const wix = maps.filter((m) => m.marketplace === 'wix');
    const allegro = maps.filter((m) => m.marketplace === 'allegro');
    expect(wix.length).toBeGreaterThan(0);
    expect(allegro.length).toBeGreaterThan(0);
    for (const m of wix) {
      expect(m.externalProductId).toMatch(GUID);
      expect(m.externalVariantId).toMatch(GUID);
      expect(m.externalInventoryId).toMatch(GUID);
    }
    for (const m of allegro) expect(m.externalOfferId).toMatch(/^\d{6,}$/);
  });

  it('has receipts whose payments add up, in several states, with their attempts', async () => {
    const receipts = await db('receipts').orderBy('id');
    expect(receipts).toHaveLength(8);
    const statuses = new Set(receipts.map((r) => r.status));
    for (const s of ['fiscalised', 'queued', 'dead']) expect(statuses).toContain(s);
    const vats = new Set<string>();
    for (const r of receipts) {
      expect(r.clientUuid).toMatch(GUID);
      const items = json<Array<{ name: string; priceMinor: number; quantity: number; vat: string; paymentMethod: string; paymentSubject: string }>>(r.items);
      const payments = json<Array<{ type: string; amountMinor: number }>>(r.payments);
      const total = Number(r.totalMinor);
      expect(Number.isInteger(total)).toBe(true);
      expect(payments.reduce((s, p) => s + p.amountMinor, 0)).toBe(total);
      expect(items.reduce((s, i) => s + Math.round(i.priceMinor * i.quantity), 0)).toBe(total);
      for (const p of payments) expect(['cash', 'electronic']).toContain(p.type);
      for (const i of items) {
        expect(Number.isInteger(i.priceMinor)).toBe(true);
        expect(i.paymentMethod).toBe('full_payment');
        expect(['commodity', 'service']).toContain(i.paymentSubject);
        vats.add(i.vat);
      }
      const attempts = await db('receiptAttempts').where({ receiptId: r.id });
      expect(attempts).toHaveLength(r.attemptCount);
      if (r.status === 'fiscalised') {
        expect(Number(r.fiscalDocumentNumber)).toBeGreaterThan(0);
        expect(r.fiscalSign).toMatch(/^\d{1,10}$/);
        expect(r.shiftNumber).toBeGreaterThan(0);
        expect(r.fiscalisedAt).toBeTruthy();
        expect(attempts.at(-1)?.outcome).toBe('ok');
      } else {
        expect(r.fiscalDocumentNumber).toBeNull();
      }
      if (r.status === 'dead') {
        expect(r.lastError).toBeTruthy();
        expect(attempts.some((a) => a.deviceErrorCode !== null && a.deviceErrorText)).toBe(true);
      }
    }
    for (const v of ['vat22', 'vat10', 'vat0', 'none']) expect(vats).toContain(v);
  });

  it('has one succeeded logikal.project sync run with numbered events', async () => {
    const runs = await db('syncRuns');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ kind: 'logikal.project', target: 'Demo Odoo/DOS22309', status: 'succeeded', done: 17, total: 17, lastStep: 'succeeded' });
    expect(json(runs[0].counters)).toMatchObject({
      phases_synced: 2, elevations_synced: 17, parts_lists_synced: 17, parts_lists_failed: 0, parts_lists_unchanged: 0,
    });
    const events = await db('syncEvents').where({ runId: runs[0].id }).orderBy('seq');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    // Shaped like a real run: one event per parts list, the last one carrying the final status.
    expect(events.filter((e) => e.step === 'parts-list')).toHaveLength(17);
    expect(events.at(-1)).toMatchObject({ step: 'succeeded' });
  });

  it('writes every timestamp as ISO-8601 UTC and every GUID in lower case', async () => {
    const data = await dump(db);
    let checked = 0;
    for (const [table, rows] of Object.entries(data)) {
      for (const row of rows as Array<Record<string, unknown>>) {
        for (const [key, value] of Object.entries(row)) {
          if (!TIMESTAMP_KEY.test(key) || value === null) continue;
          checked++;
          // Both databases hand back the same canonical ISO-8601 UTC strings.
          expect(value, `${table}.${key}`).toMatch(ISO_TS);
        }
        if (typeof row['guid'] === 'string') expect(row['guid']).toMatch(GUID);
      }
    }
    expect(checked).toBeGreaterThan(1000);
    // nothing relied on a CURRENT_TIMESTAMP default
    expect(data.projects!.every((p) => (p as { createdAt: unknown }).createdAt !== null)).toBe(true);
  });

  it('refuses a second run without changing anything', async () => {
    const before = await counts(db);
    await expect(seedDemo(db)).rejects.toThrow(/already present/);
    expect(await counts(db)).toEqual(before);
  });
});

describe('demo seed determinism', () => {
  it('writes identical rows on two fresh databases', async () => {
    const a = await targets[0]!.open();
    const b = await targets[0]!.open();
    try {
      const sa = await seedDemo(a.db);
      const sb = await seedDemo(b.db);
      expect(sb).toEqual(sa);
      expect(await dump(b.db)).toEqual(await dump(a.db));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('dates sales and forecasts relative to opts.now', async () => {
    const a = await targets[0]!.open();
    try {
      await seedDemo(a.db, { now: new Date('2027-03-15T10:30:00Z') });
      const sales = await a.db('dailySales').max({ d: 'date' }).min({ first: 'date' });
      expect(sales[0]).toEqual({ d: '2027-03-14', first: '2026-12-15' });
      const fc = await a.db('forecasts').min({ d: 'date' }).max({ last: 'date' });
      expect(fc[0]).toEqual({ d: '2027-03-15', last: '2027-03-28' });
    } finally {
      await a.close();
    }
  });
});
