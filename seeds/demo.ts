/**
 * Deterministic demo data for every table of the first release: a Logikal project tree
 * (DOS22309 with 17 elevations and their parts lists, plus a small archived DOS22410), two iiko
 * servers with department trees and 90 days of daily sales, products with stock and marketplace
 * mappings, fiscal receipts in several states, a forecasting model with 14 days of forecasts and
 * one finished sync run.
 *
 * Determinism: every "random" value comes from a seeded PRNG (one stream per area), and every
 * timestamp is derived from `opts.now` (default 2026-11-01T00:00:00Z), so two runs with the same
 * `now` write identical rows. Timestamps are always written explicitly as ISO-8601 UTC strings:
 * the column defaults would give SQLite's 'YYYY-MM-DD HH:MM:SS' text instead.
 *
 * Portability: plain knex (camelCase identifiers through the snake-case mappers), JSON columns
 * written as JSON text, inserts chunked to ≤ 200 rows, generated ids read with
 * `.returning(['id', <natural key>])` (PostgreSQL and better-sqlite3 alike) and matched by the
 * natural key, never by row order.
 */
import type { Knex } from 'knex';
import { NULL_GUID, normalizeGuid } from '../src/db/time';
import { parsePartsList } from '../src/integrations/logikal/parts-list';
import { buildPartsList } from '../src/integrations/logikal/parts-list-fixture';
import { demoDataset, partsListSpecFor } from '../src/integrations/logikal/simulator';
import { demoIikoData, type DemoDepartment, type DemoDish } from '../src/integrations/iiko/demo-data';
import { epochToIso } from '../src/integrations/logikal/store';
import { Rng } from '../src/util/prng';
import { VAT_TABLES } from '../src/device/shtrih/vat';
import { validateReceiptInput } from '../src/services/receipt-input';

// ---------------------------------------------------------------------------------------------
// Public API

/** Tables the demo seed writes, in insertion order. */
export const DEMO_TABLES = [
  'directories',
  'projects',
  'phases',
  'elevations',
  'elevation_glass',
  'elevation_parts',
  'departments',
  'daily_sales',
  'products',
  'stock_levels',
  'marketplace_mappings',
  'receipts',
  'receipt_attempts',
  'model_versions',
  'forecasts',
  'sync_runs',
  'sync_events',
] as const;
export type DemoTable = (typeof DEMO_TABLES)[number];

/** Rows inserted per table (keys are the table names). */
export type DemoSummary = Record<DemoTable, number>;

/** The project whose presence marks a seeded database. */
export const DEMO_PROJECT_NAME = 'DOS22309';
/** The default "now" of the data set, so that dates are the same on every run. */
export const DEMO_DEFAULT_NOW = '2026-11-01T00:00:00Z';

/** True when the demo project DOS22309 exists (the database has been seeded). */
export async function isDemoSeeded(db: Knex): Promise<boolean> {
  const row = await db('projects').where({ name: DEMO_PROJECT_NAME }).first('id');
  return row !== undefined;
}

/**
 * Inserts the demo data set in one transaction and returns the number of rows per table.
 * Throws (and writes nothing) when project DOS22309 already exists: check `isDemoSeeded` first.
 */
export async function seedDemo(db: Knex, opts: { now?: Date } = {}): Promise<DemoSummary> {
  const now = opts.now ?? new Date(DEMO_DEFAULT_NOW);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error('seedDemo: opts.now is not a valid Date');
  const t0 = now.getTime();

  return db.transaction(async (trx) => {
    if (await isDemoSeeded(trx)) {
      throw new Error(
        `seedDemo: demo data already present (project ${DEMO_PROJECT_NAME} exists); refusing to seed twice — check isDemoSeeded() first`,
      );
    }
    const summary = Object.fromEntries(DEMO_TABLES.map((t) => [t, 0])) as DemoSummary;
    const w = new Writer(trx, summary);

    const run = await seedSyncRun(w, t0);
    await seedLogikal(w, t0, run);
    const sales = await seedIiko(w, t0);
    await seedForecasts(w, t0, sales);
    await seedProducts(w, t0);
    await seedReceipts(w, t0);
    return summary;
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers: PRNG, ids, dates, check digits, chunked inserts

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const iso = (ms: number): string => new Date(ms).toISOString();
/** 'YYYY-MM-DD' of the UTC day `days` after the UTC day of `ms`. */
const isoDay = (ms: number, days = 0): string => new Date(Math.floor(ms / DAY) * DAY + days * DAY).toISOString().slice(0, 10);
const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};

/** EAN-13 check digit for the first 12 digits (weights 1,3,1,3… from the left). */
export function ean13CheckDigit(first12: string): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10;
}

type Row = Record<string, unknown>;
const CHUNK = 200;

/** Chunked inserts inside the seeding transaction, counting rows per table. */
class Writer {
  constructor(
    readonly trx: Knex.Transaction,
    private readonly summary: DemoSummary,
  ) {}

  async insert(table: DemoTable, rows: Row[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) await this.trx(table).insert(rows.slice(i, i + CHUNK));
    this.summary[table] += rows.length;
  }

  /** Inserts and returns natural key → generated id (`key` must be unique among `rows`). */
  async insertIds(table: DemoTable, rows: Row[], key: string): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (let i = 0; i < rows.length; i += CHUNK) {
      const returned = (await this.trx(table)
        .insert(rows.slice(i, i + CHUNK))
        .returning(['id', key])) as Array<Record<string, unknown>>;
      for (const r of returned) ids.set(String(r[key]), Number(r['id']));
    }
    if (ids.size !== rows.length) throw new Error(`seedDemo: ${table}: expected ${rows.length} ids, got ${ids.size}`);
    this.summary[table] += rows.length;
    return ids;
  }

  async insertOne(table: DemoTable, row: Row): Promise<number> {
    const [r] = (await this.trx(table).insert(row).returning('id')) as Array<{ id: number } | number>;
    this.summary[table] += 1;
    return typeof r === 'number' ? r : Number(r!.id);
  }
}

const need = <K, V>(m: Map<K, V>, k: K): V => {
  const v = m.get(k);
  if (v === undefined) throw new Error(`seedDemo: missing id for ${String(k)}`);
  return v;
};

// ---------------------------------------------------------------------------------------------
// Sync run (the one that "synced" DOS22309; its timeline dates the Logikal rows)

interface RunTimeline {
  startedAt: number;
  finishedAt: number;
  /** When the parts list of the n-th elevation (0-based, P01…P17) was parsed. */
  partsAt(n: number): number;
}

const DOS22309_ELEVATIONS = 17;

async function seedSyncRun(w: Writer, t0: number): Promise<RunTimeline> {
  const queuedAt = t0 - 2 * HOUR;
  const startedAt = queuedAt + 850;
  const partsAt = (n: number) => startedAt + 4 * SECOND + n * 2_610;
  const finishedAt = partsAt(DOS22309_ELEVATIONS - 1) + 1_240;
  // Shaped exactly like a run of the force sync engine (src/integrations/logikal/sync.ts).
  const counters = {
    phases_synced: 2,
    elevations_synced: DOS22309_ELEVATIONS,
    elevations_removed: 0,
    parts_lists_synced: DOS22309_ELEVATIONS,
    parts_lists_failed: 0,
    parts_lists_unchanged: 0,
    parts_lists_same_file: 0,
    thumbnails_synced: DOS22309_ELEVATIONS,
    sessions_opened: 4,
  };
  const runId = await w.insertOne('sync_runs', {
    kind: 'logikal.project',
    target: 'Demo Odoo/DOS22309',
    status: 'succeeded',
    counters: JSON.stringify(counters),
    done: DOS22309_ELEVATIONS,
    total: DOS22309_ELEVATIONS,
    lastStep: 'succeeded',
    error: null,
    queuedAt: iso(queuedAt),
    startedAt: iso(startedAt),
    finishedAt: iso(finishedAt),
    updatedAt: iso(finishedAt),
  });
  const zero = { ...counters, elevations_synced: 0, parts_lists_synced: 0, thumbnails_synced: 0, sessions_opened: 1 };
  const partial = (n: number) => ({ ...counters, elevations_synced: n, parts_lists_synced: n, thumbnails_synced: n });
  const names = ['P01', 'P14', 'P02', 'P15', 'P03', 'P16', 'P04', 'P17', 'P05', 'P06', 'P07', 'P08', 'P09', 'P10', 'P11', 'P12', 'P13'];
  const events: Array<Omit<Row, 'runId' | 'seq'>> = [
    { step: 'login', message: null, done: null, total: null, counters: JSON.stringify(zero), at: iso(startedAt) },
    { step: 'phases', message: 'DOS22309: 2 phases', done: null, total: null, counters: JSON.stringify(zero), at: iso(startedAt + 1_100) },
    { step: 'elevations', message: 'Posities zonder levering: 13 elevations', done: null, total: null, counters: JSON.stringify(zero), at: iso(startedAt + 2_000) },
    { step: 'elevations', message: 'Fase 1 (DEMO): 4 elevations', done: null, total: null, counters: JSON.stringify(zero), at: iso(startedAt + 2_600) },
    { step: 'parts-lists', message: '17 to download', done: 0, total: DOS22309_ELEVATIONS, counters: JSON.stringify({ ...zero, sessions_opened: 4 }), at: iso(startedAt + 3_500) },
    ...names.map((name, i) => ({
      step: 'parts-list', message: name, done: i + 1, total: DOS22309_ELEVATIONS, counters: JSON.stringify(partial(i + 1)), at: iso(partsAt(i)),
    })),
    { step: 'succeeded', message: null, done: DOS22309_ELEVATIONS, total: DOS22309_ELEVATIONS, counters: JSON.stringify(counters), at: iso(finishedAt) },
  ];
  await w.insert(
    'sync_events',
    events.map((e, i) => ({ runId, seq: i + 1, ...e })),
  );
  return { startedAt, finishedAt, partsAt };
}

// ---------------------------------------------------------------------------------------------
// Logikal

/**
 * The Logikal rows are the built-in simulator's demo dataset as a force sync would store them
 * (same GUIDs, versionIds and dates; glass, parts and system fields parsed from the same
 * generated parts-list files), so a force sync in the demo finds DOS22309 up to date and an
 * edit in the simulator shows up as exactly the changed elevations.
 */
const SEEDED_PROJECTS = ['DOS22309', 'DOS22410'];
const SEED_PARTS_LIST_BYTES = 64 * 1024;

async function seedLogikal(w: Writer, t0: number, run: RunTimeline): Promise<void> {
  const ds = demoDataset({ partsListBytes: SEED_PARTS_LIST_BYTES });
  const dir = ds.directories.find((d) => d.path === 'Demo Odoo');
  if (!dir) throw new Error('demo dataset lacks "Demo Odoo"');
  const rootSyncedAt = iso(run.startedAt + 300);
  const rootId = await w.insertOne('directories', {
    path: dir.path, name: dir.name, parentId: null, level: 0, excludeFromSync: false,
    syncedAt: rootSyncedAt, createdAt: iso(t0 - 180 * DAY), updatedAt: rootSyncedAt,
  });

  let n = 0;
  for (const name of SEEDED_PROJECTS) {
    const project = dir.projects.find((p) => p.data.name === name);
    if (!project) throw new Error(`demo dataset lacks project ${name}`);
    const synced = iso(run.finishedAt);
    const projectId = await w.insertOne('projects', {
      guid: normalizeGuid(project.data.id), directoryId: rootId, name: project.data.name,
      jobNumber: project.data.jobNumber.trim() || null, offerNumber: project.data.offerNumber.trim() || null,
      personInCharge: project.data.personInCharge.trim() || null,
      createdDate: epochToIso(project.data.createdDate), changedDate: epochToIso(project.data.changedDate),
      syncedAt: synced, createdAt: iso(run.startedAt + 1_100), updatedAt: synced,
    });
    for (const phase of project.phases) {
      const phaseStamp = iso(run.startedAt + 2_000);
      const phaseId = await w.insertOne('phases', {
        projectId, logikalId: normalizeGuid(phase.data.id), name: phase.data.name, description: phase.data.description || null,
        syncedAt: phaseStamp, createdAt: phaseStamp, updatedAt: phaseStamp,
      });
      for (const elevation of phase.elevations) {
        const e = elevation.data;
        const bytes = buildPartsList(partsListSpecFor(ds, project, phase, elevation));
        const parsed = parsePartsList(bytes, { elevationName: e.name });
        const parsedAt = iso(run.partsAt(Math.min(n++, DOS22309_ELEVATIONS - 1)));
        const elevationId = await w.insertOne('elevations', {
          guid: normalizeGuid(e.id), phaseId, versionId: normalizeGuid(e.versionId), name: e.name,
          description: e.automaticDescription || null, description2: e.userDescription || null,
          width: e.width, height: e.height, amount: Math.round(e.amount), changedDate: epochToIso(e.changedDate),
          ...parsed.elevation,
          thumbnail: null, thumbnailMime: null,
          partsFileHash: parsed.sha256, partsFileSize: parsed.sizeBytes, parseStatus: 'success', parseError: null,
          parsedAt, syncedAt: parsedAt, createdAt: iso(run.startedAt + 3_500), updatedAt: parsedAt,
        });
        await w.insert('elevation_glass', parsed.glass.map((g) => ({ elevationId, glassId: g.glassId, name: g.name })));
        await w.insert('elevation_parts', parsed.parts.map((p) => ({ elevationId, ...p })));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// iiko: department trees and daily sales

/**
 * The trees and sales come from demoIikoData (src/integrations/iiko/demo-data.ts), the same
 * function the demo iiko simulators serve, so a sync of the demo servers finds these rows
 * unchanged. It keeps the PRNG stream this seed always used: the rows are the same as before.
 */
type Dish = DemoDish;

const FORECAST_DAYS = 14;

interface SalesDept {
  id: number;
  dishes: readonly Dish[];
  week: readonly number[];
  scale: number;
  /** quantity per dish code per date */
  history: Map<string, Map<string, number>>;
}

/** Inserts one server's tree level by level (parents first); returns guid → id. */
async function insertTree(w: Writer, server: string, specs: DemoDepartment[], t0: number): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const syncedAt = iso(t0 - 3 * HOUR + (server === 'iiko-main' ? 0 : 40 * SECOND));
  const createdAt = iso(t0 - 120 * DAY);
  const maxDepth = Math.max(...specs.map((s) => s.depth));
  for (let depth = 0; depth <= maxDepth; depth++) {
    const rows = specs
      .filter((s) => s.depth === depth)
      .map((s) => ({
        guid: s.id,
        sourceServer: server,
        parentId: s.parentId === null ? null : need(ids, s.parentId),
        parentGuid: s.parentId,
        code: s.code,
        name: s.name,
        type: s.type,
        taxpayerId: s.taxpayerId,
        removedAt: null,
        syncedAt,
        createdAt,
        updatedAt: syncedAt,
      }));
    for (const [guid, id] of await w.insertIds('departments', rows, 'guid')) ids.set(guid, id);
  }
  return ids;
}

async function seedIiko(w: Writer, t0: number): Promise<SalesDept[]> {
  const servers = demoIikoData({ now: new Date(t0) });
  const depts: SalesDept[] = [];
  // 90 business days ending the day before `now`, imported nightly at 02:15 UTC the next day.
  const rows: Row[] = [];
  for (const server of servers) {
    const ids = await insertTree(w, server.name, server.departments, t0);
    const byGuid = new Map<string, SalesDept>();
    for (const d of server.salesDepartments) {
      const dept: SalesDept = { id: need(ids, d.guid), dishes: d.dishes, week: d.week, scale: d.scale, history: new Map() };
      for (const dish of d.dishes) dept.history.set(dish.code, new Map());
      byGuid.set(d.guid, dept);
      depts.push(dept);
    }
    for (const s of server.sales) {
      const dept = need(byGuid, s.departmentId);
      dept.history.get(s.dishCode)!.set(s.date, s.quantity);
      rows.push({
        departmentId: dept.id,
        productCode: s.dishCode,
        productName: s.dishName,
        date: s.date,
        quantity: s.quantity,
        amountMinor: s.amountMinor,
        importedAt: iso(Date.parse(`${s.date}T00:00:00Z`) + DAY + 2 * HOUR + 15 * MINUTE),
      });
    }
  }
  await w.insert('daily_sales', rows);
  return depts;
}

// ---------------------------------------------------------------------------------------------
// Forecasts

async function seedForecasts(w: Writer, t0: number, depts: SalesDept[]): Promise<void> {
  const trainedAt = t0 - DAY + 3 * HOUR; // nightly training before the forecast origin
  const modelVersionId = await w.insertOne('model_versions', {
    name: 'sales-gbdt',
    version: '2026.11.1',
    algorithm: 'lightgbm-quantile',
    metrics: JSON.stringify({ wape: 0.184, mase: 0.82, coverage_p10_p90: 0.79, baseline_wape: 0.231 }),
    trainedAt: iso(trainedAt),
    createdAt: iso(trainedAt + 4 * MINUTE),
  });

  // "Model": mean of the last 4 same weekdays, with a band widening with the horizon.
  const expected = (dept: SalesDept, code: string, date: string): number => {
    const hist = dept.history.get(code)!;
    // the latest same weekday inside the history (strictly before the origin), then 3 more weeks back
    let last = Date.parse(`${date}T00:00:00Z`) - 7 * DAY;
    while (last >= Math.floor(t0 / DAY) * DAY) last -= 7 * DAY;
    let sum = 0;
    for (let k = 0; k < 4; k++) sum += hist.get(isoDay(last - 7 * DAY * k)) ?? 0;
    return sum / 4;
  };

  const createdAt = iso(t0 + 5 * MINUTE);
  const rows: Row[] = [];
  for (const dept of depts.slice(0, 3)) {
    for (let h = 0; h < FORECAST_DAYS; h++) {
      const date = isoDay(t0, h);
      const spread = 1 + 0.015 * h;
      const band = (p50: number) => {
        const mid = round(p50, 1);
        return { p10: round(Math.max(0, mid * (1 - 0.22 * spread)), 1), p50: mid, p90: round(mid * (1 + 0.27 * spread), 1) };
      };
      const total = dept.dishes.reduce((s, d) => s + expected(dept, d.code, date), 0);
      rows.push({ departmentId: dept.id, productCode: null, date, ...band(total), modelVersionId, createdAt });
      for (const dish of dept.dishes.slice(0, 3)) {
        rows.push({ departmentId: dept.id, productCode: dish.code, date, ...band(expected(dept, dish.code, date)), modelVersionId, createdAt });
      }
    }
  }
  await w.insert('forecasts', rows);
}

// ---------------------------------------------------------------------------------------------
// Products, stock and marketplace mappings

const PRODUCTS: Array<{ sku: string; name: string; prefix: string; eans: 1 | 2 }> = [
  { sku: 'CB-ETH-250', name: 'Coffee beans Ethiopia Yirgacheffe, 250 g', prefix: '590', eans: 2 },
  { sku: 'CB-ETH-1000', name: 'Coffee beans Ethiopia Yirgacheffe, 1 kg', prefix: '590', eans: 1 },
  { sku: 'CB-COL-250', name: 'Coffee beans Colombia Huila, 250 g', prefix: '590', eans: 1 },
  { sku: 'CB-COL-1000', name: 'Coffee beans Colombia Huila, 1 kg', prefix: '590', eans: 1 },
  { sku: 'CB-BRA-250', name: 'Coffee beans Brazil Cerrado, 250 g', prefix: '590', eans: 1 },
  { sku: 'CB-ESP-1000', name: 'Espresso blend "Zerno", 1 kg', prefix: '460', eans: 2 },
  { sku: 'CG-ESP-250', name: 'Ground coffee espresso blend, 250 g', prefix: '460', eans: 1 },
  { sku: 'TEA-OOL-100', name: 'Oolong tea Milky, 100 g', prefix: '460', eans: 1 },
  { sku: 'TEA-SEN-100', name: 'Green tea Sencha, 100 g', prefix: '460', eans: 1 },
  { sku: 'TEA-IVN-50', name: 'Ivan-chai fermented, 50 g', prefix: '460', eans: 1 },
  { sku: 'SYR-VAN-250', name: 'Syrup vanilla, 250 ml', prefix: '590', eans: 1 },
  { sku: 'SYR-CAR-250', name: 'Syrup caramel, 250 ml', prefix: '590', eans: 1 },
  { sku: 'MUG-CER-350', name: 'Ceramic mug 350 ml, logo', prefix: '460', eans: 1 },
  { sku: 'MUG-THR-450', name: 'Thermo mug 450 ml, steel', prefix: '460', eans: 2 },
  { sku: 'DRP-V60-02', name: 'Pour-over dripper V60 size 02, ceramic', prefix: '590', eans: 1 },
  { sku: 'FLT-V60-100', name: 'Paper filters V60 02, 100 pcs', prefix: '590', eans: 1 },
  { sku: 'KTL-GSN-600', name: 'Gooseneck kettle 600 ml', prefix: '590', eans: 1 },
  { sku: 'GRN-HND-01', name: 'Hand grinder, ceramic burrs', prefix: '590', eans: 1 },
  { sku: 'SCL-DIG-01', name: 'Coffee scale with timer', prefix: '590', eans: 1 },
  { sku: 'FRP-350', name: 'French press 350 ml', prefix: '460', eans: 1 },
  { sku: 'CHO-DRK-100', name: 'Dark chocolate 72 %, 100 g', prefix: '460', eans: 1 },
  { sku: 'CHO-MLK-100', name: 'Milk chocolate with hazelnuts, 100 g', prefix: '460', eans: 1 },
  { sku: 'BSC-OAT-200', name: 'Oat biscuits, 200 g', prefix: '460', eans: 1 },
  { sku: 'GFT-BOX-S', name: 'Gift box small: coffee + mug', prefix: '460', eans: 1 },
  { sku: 'GFT-CARD-3000', name: 'Gift card 3000', prefix: '460', eans: 1 },
];

async function seedProducts(w: Writer, t0: number): Promise<void> {
  const rng = new Rng('products');
  const used = new Set<string>();
  const ean = (prefix: string): string => {
    for (;;) {
      const first12 = prefix + rng.digits(12 - prefix.length);
      const code = first12 + String(ean13CheckDigit(first12));
      if (!used.has(code)) {
        used.add(code);
        return code;
      }
    }
  };
  const createdAt = t0 - 60 * DAY;
  const productRows = PRODUCTS.map((p, i) => {
    const updatedAt = iso(t0 - (i % 7) * DAY - 6 * HOUR);
    return {
      sku: p.sku,
      name: p.name,
      eanCodes: JSON.stringify(Array.from({ length: p.eans }, () => ean(p.prefix))),
      createdAt: iso(createdAt + i * MINUTE),
      updatedAt,
    };
  });
  const ids = await w.insertIds('products', productRows, 'sku');

  const stock: Row[] = [];
  const mappings: Row[] = [];
  PRODUCTS.forEach((p, i) => {
    const productId = need(ids, p.sku);
    const updatedAt = iso(t0 - rng.int(1, 72) * HOUR);
    // a few items out of stock in the shop, one sold out everywhere
    const main = i === 17 ? 0 : rng.int(0, 240);
    const shop = i === 17 || i % 6 === 5 ? 0 : rng.int(1, 40);
    stock.push({ productId, location: 'WH-MAIN', quantity: main, updatedAt });
    stock.push({ productId, location: 'SHOP-1', quantity: shop, updatedAt });

    const mapStamp = iso(createdAt + i * MINUTE + DAY);
    if (i % 2 === 0 || i === 13) {
      const productGuid = rng.guid();
      mappings.push({
        productId,
        marketplace: 'wix',
        externalProductId: productGuid,
        // products without options have Wix's single null-GUID variant
        externalVariantId: i === 0 || i === 13 ? rng.guid() : NULL_GUID,
        externalInventoryId: rng.guid(),
        externalOfferId: null,
        createdAt: mapStamp,
        updatedAt: mapStamp,
      });
    }
    if (i % 3 !== 2 && i < 24) {
      mappings.push({
        productId,
        marketplace: 'allegro',
        externalProductId: null,
        externalVariantId: null,
        externalInventoryId: null,
        externalOfferId: `1${rng.int(4, 7)}${rng.digits(9)}`, // 11-digit offer id, kept as a string
        createdAt: mapStamp,
        updatedAt: mapStamp,
      });
    }
  });
  await w.insert('stock_levels', stock);
  await w.insert('marketplace_mappings', mappings);
}

// ---------------------------------------------------------------------------------------------
// Receipts

interface ItemSpec {
  name: string;
  priceMinor: number;
  quantity: number;
  vat: 'vat22' | 'vat10' | 'vat0' | 'none';
  paymentSubject: 'commodity' | 'service';
}

interface ReceiptSpec {
  status: 'fiscalised' | 'queued' | 'dead';
  operation: 'sale' | 'sale_return';
  taxSystem: 'osn' | 'usn_income';
  items: ItemSpec[];
  /** Share paid in cash (the rest electronically); 1 = all cash, 0 = all electronic. */
  cashShare: number;
  customerContact: string | null;
  minutesAgo: number;
  attempts: Array<{ outcome: 'ok' | 'device_error' | 'transport_error'; code?: number; text?: string }>;
  lastError?: string;
}

const RECEIPTS: ReceiptSpec[] = [
  {
    status: 'fiscalised', operation: 'sale', taxSystem: 'osn', cashShare: 0, customerContact: 'anna.petrova@example.com', minutesAgo: 26 * 60,
    items: [{ name: 'Кофе в зёрнах Эфиопия, 250 г', priceMinor: 89_000, quantity: 2, vat: 'vat22', paymentSubject: 'commodity' }],
    attempts: [{ outcome: 'ok' }],
  },
  {
    status: 'fiscalised', operation: 'sale', taxSystem: 'osn', cashShare: 0.6, customerContact: null, minutesAgo: 23 * 60,
    items: [
      { name: 'Чай улун молочный, 100 г', priceMinor: 45_000, quantity: 1, vat: 'vat22', paymentSubject: 'commodity' },
      { name: 'Молоко 3,2 %, 1 л', priceMinor: 12_900, quantity: 2, vat: 'vat10', paymentSubject: 'commodity' },
      { name: 'Международная доставка', priceMinor: 35_000, quantity: 1, vat: 'vat0', paymentSubject: 'service' },
    ],
    attempts: [{ outcome: 'ok' }],
  },
  {
    status: 'fiscalised', operation: 'sale', taxSystem: 'osn', cashShare: 1, customerContact: '+79161234567', minutesAgo: 19 * 60,
    items: [
      { name: 'Капучино 300 мл', priceMinor: 24_000, quantity: 3, vat: 'vat22', paymentSubject: 'commodity' },
      { name: 'Круассан', priceMinor: 18_000, quantity: 2, vat: 'vat22', paymentSubject: 'commodity' },
    ],
    attempts: [{ outcome: 'transport_error', text: 'no answer from the register within 3 s (COM3)' }, { outcome: 'ok' }],
  },
  {
    status: 'fiscalised', operation: 'sale', taxSystem: 'usn_income', cashShare: 0, customerContact: 'ivan.k@example.org', minutesAgo: 8 * 60,
    items: [{ name: 'Мастер-класс по латте-арту', priceMinor: 250_000, quantity: 1, vat: 'none', paymentSubject: 'service' }],
    attempts: [{ outcome: 'ok' }],
  },
  {
    status: 'fiscalised', operation: 'sale_return', taxSystem: 'osn', cashShare: 0, customerContact: 'anna.petrova@example.com', minutesAgo: 5 * 60,
    items: [{ name: 'Кружка керамическая 350 мл', priceMinor: 69_000, quantity: 1, vat: 'vat22', paymentSubject: 'commodity' }],
    attempts: [{ outcome: 'ok' }],
  },
  {
    status: 'queued', operation: 'sale', taxSystem: 'osn', cashShare: 1, customerContact: null, minutesAgo: 40,
    items: [
      { name: 'Кофе в зёрнах Колумбия, 1 кг', priceMinor: 249_000, quantity: 1, vat: 'vat22', paymentSubject: 'commodity' },
      { name: 'Сироп ванильный, 250 мл', priceMinor: 35_000, quantity: 2, vat: 'vat22', paymentSubject: 'commodity' },
    ],
    attempts: [],
  },
  {
    status: 'queued', operation: 'sale', taxSystem: 'osn', cashShare: 0, customerContact: '+79031112233', minutesAgo: 25,
    items: [
      { name: 'Конфеты шоколадные, весовые', priceMinor: 120_000, quantity: 0.35, vat: 'vat22', paymentSubject: 'commodity' },
      { name: 'Пакет бумажный', priceMinor: 500, quantity: 1, vat: 'vat22', paymentSubject: 'commodity' },
    ],
    attempts: [{ outcome: 'transport_error', text: 'serial port COM3 busy' }],
    lastError: 'transport error: serial port COM3 busy (will retry)',
  },
  {
    status: 'dead', operation: 'sale', taxSystem: 'osn', cashShare: 0, customerContact: null, minutesAgo: 3 * 60,
    items: [
      { name: 'Термокружка 450 мл', priceMinor: 159_000, quantity: 1, vat: 'vat22', paymentSubject: 'commodity' },
      { name: 'Гравировка на кружке', priceMinor: 40_000, quantity: 1, vat: 'vat22', paymentSubject: 'service' },
    ],
    attempts: [
      { outcome: 'transport_error', text: 'no answer from the register within 3 s (COM3)' },
      { outcome: 'device_error', code: 0x33, text: 'Некорректные параметры в команде (33h)' },
    ],
    lastError: 'device error 33h: Некорректные параметры в команде — moved to dead letters, needs an operator',
  },
];

async function seedReceipts(w: Writer, t0: number): Promise<void> {
  const rng = new Rng('receipts');
  const shiftNumber = 42;
  let fd = 1_021;
  const rows: Row[] = [];
  const attemptsByUuid = new Map<string, Row[]>();
  for (const spec of RECEIPTS) {
    const clientUuid = rng.guid();
    const createdAt = t0 - spec.minutesAgo * MINUTE;
    const totalMinor = spec.items.reduce((s, it) => s + Math.round(it.priceMinor * it.quantity), 0);
    const cash = Math.round((totalMinor * spec.cashShare) / 100) * 100; // cash in whole roubles
    // Through the same validation as receipts.create: stored items, totals and the print payload
    // are what intake would have stored (the demo register prints the queued ones).
    const v = validateReceiptInput(
      {
        clientUuid,
        operation: spec.operation,
        taxSystem: spec.taxSystem,
        items: spec.items.map((it) => ({ ...it, paymentMethod: 'full_payment' })),
        payments: [
          ...(cash > 0 ? [{ type: 'cash' as const, amountMinor: cash }] : []),
          ...(totalMinor - cash > 0 ? [{ type: 'electronic' as const, amountMinor: totalMinor - cash }] : []),
        ],
        customerContact: spec.customerContact,
      },
      { vatCodes: VAT_TABLES.shtrih },
    );

    const attempts: Row[] = [];
    let at = createdAt + 400;
    for (const a of spec.attempts) {
      const finished = at + (a.outcome === 'transport_error' ? 3_000 : 1_800);
      attempts.push({
        startedAt: iso(at),
        finishedAt: iso(finished),
        outcome: a.outcome,
        deviceErrorCode: a.code ?? null,
        deviceErrorText: a.outcome === 'device_error' ? a.text ?? null : null,
      });
      at = finished + 30 * SECOND;
    }
    attemptsByUuid.set(clientUuid, attempts);
    const last = attempts.at(-1);
    const fiscalised = spec.status === 'fiscalised';
    const docNumber = fiscalised ? fd++ : null;
    const updatedAt = last ? (last['finishedAt'] as string) : iso(createdAt);
    rows.push({
      clientUuid,
      status: spec.status,
      operation: spec.operation,
      taxSystem: spec.taxSystem,
      items: JSON.stringify(v.items),
      payments: JSON.stringify(v.payments),
      printPayload: JSON.stringify(v.printPayload),
      totalMinor: v.totalMinor,
      changeMinor: v.changeMinor,
      customerContact: v.customerContact,
      expectedFiscalDocumentNumber: docNumber,
      fiscalDocumentNumber: docNumber,
      fiscalSign: fiscalised ? String(rng.int(100_000_000, 4_294_967_295)) : null,
      shiftNumber: fiscalised ? shiftNumber : null,
      fiscalisedAt: fiscalised ? updatedAt : null,
      attemptCount: attempts.length,
      lastError: spec.lastError ?? null,
      lastErrorCode: spec.status === 'dead' ? (spec.attempts.at(-1)?.code ?? null) : null,
      createdAt: iso(createdAt),
      updatedAt,
    });
  }
  const ids = await w.insertIds('receipts', rows, 'clientUuid');
  const attemptRows: Row[] = [];
  for (const [uuid, attempts] of attemptsByUuid) {
    const receiptId = need(ids, uuid);
    for (const a of attempts) attemptRows.push({ receiptId, ...a });
  }
  await w.insert('receipt_attempts', attemptRows);
}
