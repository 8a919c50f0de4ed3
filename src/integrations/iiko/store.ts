/**
 * How iiko data lands in our tables. Every write of the iiko sync goes through here:
 *
 * - the departments of ONE server in ONE transaction (upsert by (source_server, guid), parent
 *   links resolved in a second pass inside the database, departments no longer listed marked
 *   removed), so a failing server never leaves a half-written tree;
 * - the sales of ONE day of ONE server in ONE transaction, together with the import's
 *   checkpoint, so the checkpoint never runs ahead of the data it covers.
 *
 * Bulk writes go through `bulkUpsert`: the rows travel as ONE JSON array parameter and the
 * database unpacks them (SQLite json_each, PostgreSQL jsonb_array_elements) into an
 * INSERT … ON CONFLICT DO UPDATE. knex's own multi-row insert works too, but on SQLite it is a
 * compound SELECT capped at 500 rows whose statement preparation cost as much CPU as running it,
 * and on PostgreSQL a 10,000-row VALUES list with 70,000 parameters is parsed and bound slowly;
 * one small statement with one parameter upserted 1.5× faster on SQLite and 2–2.5× faster on
 * PostgreSQL (10,000-row days, measured while writing bench/iiko.ts). The SQL is the same on
 * both databases except the unpacking and the casts.
 */
import type { Knex } from 'knex';
import { isPostgres } from '../../db/knex';
import { nowIso } from '../../db/time';
import type { Hierarchy } from './hierarchy';

/** Rows per statement: bounds the size of one JSON parameter (a few MB), not a parameter count. */
const BULK_ROWS = 20_000;

/** A column of a bulk upsert: its name in the table and its PostgreSQL type (for the cast). */
interface BulkColumn {
  name: string;
  pg: 'int' | 'bigint' | 'float8' | 'text' | 'timestamptz';
}

/**
 * INSERT … ON CONFLICT (conflict) DO UPDATE SET (update) [WHERE any of changedIf differs], with
 * the rows (arrays in `columns` order) passed as one JSON parameter per BULK_ROWS rows.
 * Identifiers are written here, never taken from input.
 */
async function bulkUpsert(
  trx: Knex,
  table: string,
  columns: BulkColumn[],
  rows: unknown[][],
  conflict: string[],
  update: string[],
  changedIf: string[] = [],
): Promise<void> {
  const pg = isPostgres(trx);
  const pick = columns.map((c, i) => (pg ? `(e->>${i})::${c.pg}` : `e.value->>${i}`)).join(', ');
  const from = pg ? 'jsonb_array_elements(?::jsonb) e' : 'json_each(?) e where true'; // "where true": SQLite's upsert-after-SELECT rule
  const set = update.map((c) => `${c} = excluded.${c}`).join(', ');
  const where = changedIf.length ? ` where ${changedIf.map((c) => `${table}.${c} is distinct from excluded.${c}`).join(' or ')}` : '';
  const sql = `insert into ${table} (${columns.map((c) => c.name).join(', ')}) select ${pick} from ${from} on conflict (${conflict.join(', ')}) do update set ${set}${where}`;
  for (let i = 0; i < rows.length; i += BULK_ROWS) {
    await trx.raw(sql, [JSON.stringify(rows.slice(i, i + BULK_ROWS))]);
  }
}

/** Fits a value into a varchar column (PostgreSQL refuses longer ones) and drops NULs. */
function clip(v: string | null | undefined, max: number): string | null {
  if (v === null || v === undefined) return null;
  const s = v.replace(/\u0000/g, '').trim();
  if (!s) return null;
  return s.length > max ? s.slice(0, max) : s;
}

const DEPARTMENT_COLUMNS: BulkColumn[] = [
  { name: 'guid', pg: 'text' },
  { name: 'source_server', pg: 'text' },
  { name: 'parent_guid', pg: 'text' },
  { name: 'code', pg: 'text' },
  { name: 'name', pg: 'text' },
  { name: 'type', pg: 'text' },
  { name: 'taxpayer_id', pg: 'text' },
  { name: 'removed_at', pg: 'timestamptz' },
  { name: 'synced_at', pg: 'timestamptz' },
  { name: 'created_at', pg: 'timestamptz' },
  { name: 'updated_at', pg: 'timestamptz' },
];

const SALES_COLUMNS: BulkColumn[] = [
  { name: 'department_id', pg: 'int' },
  { name: 'product_code', pg: 'text' },
  { name: 'product_name', pg: 'text' },
  { name: 'date', pg: 'text' },
  { name: 'quantity', pg: 'float8' },
  { name: 'amount_minor', pg: 'bigint' },
  { name: 'imported_at', pg: 'timestamptz' },
];

export interface DepartmentsSaved {
  /** Departments the server listed (all upserted). */
  listed: number;
  /** Of those, new to us. */
  added: number;
  /** Listed again after having been marked removed. */
  restored: number;
  /** Ours, no longer listed: marked removed now. */
  removed: number;
}

/**
 * Stores one server's department tree in one transaction. `now` stamps every listed row
 * (synced_at): what the server did not list keeps an older stamp and is marked removed.
 */
export async function saveDepartments(db: Knex, server: string, h: Hierarchy, now = nowIso()): Promise<DepartmentsSaved> {
  return db.transaction(async (trx) => {
    const before = new Map<string, boolean>(); // guid → currently marked removed
    for (const r of (await trx('departments').where({ sourceServer: server }).select('guid', 'removedAt')) as Array<{ guid: string; removedAt: unknown }>) {
      before.set(r.guid, r.removedAt != null);
    }
    let added = 0;
    let restored = 0;
    const rows = h.nodes.map((n) => {
      const was = before.get(n.id);
      if (was === undefined) added++;
      else if (was) restored++;
      // In DEPARTMENT_COLUMNS order.
      return [n.id, server, n.parentGuid, clip(n.code, 255), clip(n.name, 255) ?? '', clip(n.type, 64) ?? 'UNKNOWN', clip(n.taxpayerId, 32), null, now, now, now];
    });
    await bulkUpsert(
      trx, 'departments', DEPARTMENT_COLUMNS, rows, ['source_server', 'guid'],
      ['parent_guid', 'code', 'name', 'type', 'taxpayer_id', 'removed_at', 'synced_at', 'updated_at'],
    );
    // Second pass, in the database: parent_id from parent_guid (the tree arrives in any order,
    // so parents may have been inserted after their children). Only rows whose link changes
    // are written.
    const parentOf =
      '(select p.id from departments p where p.source_server = departments.source_server and p.guid = departments.parent_guid)';
    await trx.raw(
      `update departments set parent_id = ${parentOf} where source_server = ? and parent_id is distinct from ${parentOf}`,
      [server],
    );
    // Not listed this time (older stamp): gone upstream. Marked, never deleted: sales and
    // forecasts keep pointing at them.
    const removed = await trx('departments')
      .where({ sourceServer: server })
      .whereNull('removedAt')
      .where((q) => q.whereNull('syncedAt').orWhereNot('syncedAt', now))
      .update({ removedAt: now, updatedAt: now });
    return { listed: rows.length, added, restored, removed: Number(removed) };
  });
}

/** guid (lower-case) → our id, for every department of the server (removed ones included). */
export async function departmentIds(db: Knex, server: string): Promise<Map<string, number>> {
  const rows = (await db('departments').where({ sourceServer: server }).select('guid', 'id')) as Array<{ guid: string; id: number }>;
  return new Map(rows.map((r) => [r.guid, Number(r.id)]));
}

export interface SalesRowIn {
  departmentId: number;
  productCode: string;
  productName: string | null;
  quantity: number;
  amountMinor: number;
}

export interface Checkpoint {
  kind: string;
  target: string;
  cursor: string;
}

/**
 * Makes our rows of one business day of one server what the report says, in one transaction,
 * and advances the checkpoint with them. Rows are keyed by (date, department, product code):
 * importing the same day again rewrites nothing that did not change (imported_at included);
 * a line the server no longer reports for that day (a corrected or cancelled order) is deleted
 * — only rows of this server's departments, only of this day. Returns the rows deleted.
 */
export async function saveSalesDay(
  db: Knex,
  server: string,
  day: string,
  rows: SalesRowIn[],
  checkpoint: Checkpoint | null,
  now = nowIso(),
): Promise<{ deleted: number }> {
  return db.transaction(async (trx) => {
    // A day seen for the first time has nothing to delete (the bulk of a history import).
    const seenBefore = (await trx('dailySales').where({ date: day }).first('id')) !== undefined;
    const data = rows.map((r) => [r.departmentId, r.productCode, r.productName, day, r.quantity, r.amountMinor, now]);
    await bulkUpsert(
      trx, 'daily_sales', SALES_COLUMNS, data, ['date', 'department_id', 'product_code'],
      ['product_name', 'quantity', 'amount_minor', 'imported_at'],
      // Unchanged rows are not rewritten: a re-import leaves them (and their imported_at) alone.
      ['quantity', 'amount_minor', 'product_name'],
    );
    let deleted = 0;
    if (seenBefore) {
      const keys = JSON.stringify(rows.map((r) => [r.departmentId, r.productCode]));
      const reported = isPostgres(trx)
        ? 'select (e->>0)::int, e->>1 from jsonb_array_elements(?::jsonb) e'
        : 'select e.value->>0, e.value->>1 from json_each(?) e';
      const gone = await trx.raw(
        'delete from daily_sales where date = ? and department_id in (select id from departments where source_server = ?) ' +
          `and (department_id, product_code) not in (${reported})`,
        [day, server, keys],
      );
      deleted = affected(gone);
    }
    if (checkpoint) await saveCheckpoint(trx, checkpoint, now);
    return { deleted };
  });
}

/** Rows affected by a raw DELETE/UPDATE: pg gives rowCount, better-sqlite3 `changes`. */
function affected(result: unknown): number {
  const r = result as { rowCount?: number; changes?: number } | null;
  return Number(r?.rowCount ?? r?.changes ?? 0);
}

/**
 * Aggregates a day's report rows per (department, product code): refunds and storno lines come
 * as negative quantities and are summed in, and one key is written once.
 */
export function aggregateSales(
  rows: Array<{ departmentId: number; productCode: string; productName: string | null; quantity: number; amountMinor: number }>,
): SalesRowIn[] {
  const byKey = new Map<string, SalesRowIn>();
  for (const r of rows) {
    const key = `${r.departmentId}\u0001${r.productCode}`;
    const cur = byKey.get(key);
    if (cur) {
      cur.quantity += r.quantity;
      cur.amountMinor += r.amountMinor;
      if (!cur.productName && r.productName) cur.productName = r.productName;
    } else {
      byKey.set(key, { ...r });
    }
  }
  return [...byKey.values()];
}

/** Normalises a product code/name for storage (varchar(255), no NULs). */
export const clipProduct = (v: string | null | undefined) => clip(v, 255);

export async function readCheckpoint(db: Knex, kind: string, target: string): Promise<string | null> {
  const row = await db('syncCheckpoints').where({ kind, target }).first('cursor');
  return row ? String(row.cursor) : null;
}

export async function saveCheckpoint(db: Knex, c: Checkpoint, now = nowIso()): Promise<void> {
  await db('syncCheckpoints')
    .insert({ kind: c.kind, target: c.target, cursor: c.cursor, updatedAt: now })
    .onConflict(['kind', 'target'])
    .merge(['cursor', 'updatedAt']);
}

export async function clearCheckpoint(db: Knex, kind: string, target: string): Promise<void> {
  await db('syncCheckpoints').where({ kind, target }).del();
}
