/**
 * The iiko jobs: the department trees of the configured servers, and the daily sales history.
 *
 * - Every server is handled on its own: its departments are fetched with one token (one
 *   licence seat, logged out in every path by IikoClient.session) and stored in one
 *   transaction. A failing server (auth, licence, timeout, malformed or hostile XML, a cycle in
 *   its tree, …) rolls back, keeps its previous rows, and does not stop the others; the run
 *   records each server's outcome in its events and counters and fails if any server failed.
 * - Sales are pulled one business day per OLAP request and stored one day per transaction,
 *   together with the checkpoint "last day fully imported" of (server, range), so a re-run
 *   after a failure resumes with the next day. The next day's report is fetched while the
 *   current one is written.
 */
import type { Knex } from 'knex';
import { normalizeGuid } from '../../db/time';
import type { Logger } from '../../logger';
import type { ServiceContext } from '../../services/context';
import { Cancelled, progressReporter, stopChecker } from '../../jobs/progress';
import type { IikoClient, IikoSalesRow } from './client';
import { buildHierarchy, HierarchyError } from './hierarchy';
import * as store from './store';

export const DEPARTMENTS_KIND = 'iiko.departments';
export const SALES_KIND = 'iiko.sales';

/** The run was cancelled on request or the process is stopping. */

export interface ServerFailure {
  server: string;
  error: string;
}

export interface JobOutcome<C> {
  counters: C;
  failures: ServerFailure[];
}

export interface DepartmentsCounters {
  servers_total: number;
  servers_succeeded: number;
  servers_failed: number;
  departments_listed: number;
  departments_added: number;
  departments_restored: number;
  departments_removed: number;
  roots_from_missing_parent: number;
}

export interface SalesCounters {
  servers_total: number;
  servers_succeeded: number;
  servers_failed: number;
  days_total: number;
  days_imported: number;
  rows_upserted: number;
  rows_skipped_unknown_department: number;
  /** Rows of an imported day that the server no longer reports (corrections), deleted. */
  rows_deleted: number;
}

/** What a server's failure is called in the run (never a secret: the client scrubs its texts). */
export function describeFailure(e: unknown): string {
  if (e instanceof HierarchyError) return `${e.problem}: ${e.message}`;
  const err = e as { name?: string; kind?: string; problem?: string; message?: string };
  const kind = err.problem ?? err.kind;
  const name = err.name && err.name !== 'Error' ? err.name : null;
  const label = [name, kind].filter(Boolean).join('/');
  const text = String(err.message ?? e).replace(/\s+/g, ' ').slice(0, 500);
  return label ? `${label}: ${text}` : text;
}

/**
 * One writer per (database, server) at a time inside this process: a sync of "all" and one of a
 * single server may run side by side, and their transactions on one server's tree must not
 * interleave.
 */
const serverLocks = new WeakMap<Knex, Map<string, Promise<unknown>>>();
async function withServerLock<T>(db: Knex, server: string, fn: () => Promise<T>): Promise<T> {
  let locks = serverLocks.get(db);
  if (!locks) serverLocks.set(db, (locks = new Map()));
  const prev = locks.get(server) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(fn);
  const tail = run.catch(() => undefined);
  locks.set(server, tail);
  try {
    return await run;
  } finally {
    if (locks.get(server) === tail) locks.delete(server);
  }
}

/** Progress through one promise chain (servers work in parallel; events stay in order). */
// ---------------------------------------------------------------------------------------------
// Departments

export async function syncDepartments(
  ctx: ServiceContext,
  clients: IikoClient[],
  runId: number,
  signal: AbortSignal,
  logger: Logger,
): Promise<JobOutcome<DepartmentsCounters>> {
  const counters: DepartmentsCounters = {
    servers_total: clients.length, servers_succeeded: 0, servers_failed: 0, departments_listed: 0,
    departments_added: 0, departments_restored: 0, departments_removed: 0, roots_from_missing_parent: 0,
  };
  const progress = progressReporter(ctx, runId, counters);
  const checkStop = stopChecker(ctx, runId, signal);
  const failures: ServerFailure[] = [];
  let done = 0;
  const total = clients.length;
  await progress('started', { done, total, message: clients.map((c) => c.name).join(', ') });

  const one = async (client: IikoClient) => {
    const server = client.name;
    try {
      await checkStop();
      const raw = await client.session((s) => s.departments());
      await checkStop();
      const tree = buildHierarchy(raw);
      const saved = await withServerLock(ctx.db, server, () => store.saveDepartments(ctx.db, server, tree));
      counters.servers_succeeded++;
      counters.departments_listed += saved.listed;
      counters.departments_added += saved.added;
      counters.departments_restored += saved.restored;
      counters.departments_removed += saved.removed;
      counters.roots_from_missing_parent += tree.rootsFromMissingParent;
      done++;
      const notes = [`${saved.added} new`, `${saved.removed} removed`];
      if (saved.restored) notes.push(`${saved.restored} back`);
      if (tree.rootsFromMissingParent) notes.push(`${tree.rootsFromMissingParent} with an unknown parent`);
      await progress('server', { done, total, message: `${server}: ${saved.listed} departments (${notes.join(', ')})` });
    } catch (e) {
      if (e instanceof Cancelled) throw e;
      const error = describeFailure(e);
      logger.warn({ err: e, server }, 'iiko: departments of a server failed; its previous rows are kept');
      failures.push({ server, error });
      counters.servers_failed++;
      done++;
      await progress('server-failed', { done, total, message: `${server}: ${error}` });
    }
  };
  await settleAll(clients.map(one));
  return { counters, failures };
}

/** Waits for every promise; rethrows a cancellation (or the first other error) afterwards. */
async function settleAll(ps: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(ps);
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
  if (rejected.length) throw rejected.find((e) => e instanceof Cancelled) ?? rejected[0];
}

// ---------------------------------------------------------------------------------------------
// Sales

export interface SalesRange {
  from: string;
  to: string;
}

export interface SalesOptions {
  /** Continue after the checkpoint of (server, range) instead of starting at `from`. */
  resume: boolean;
  /** Days before `today` imported again even when the checkpoint is past them. */
  repullDays: number;
  /** YYYY-MM-DD (UTC) */
  today: string;
}

/** YYYY-MM-DD plus n days (calendar arithmetic in UTC). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

export const checkpointTarget = (server: string, r: SalesRange) => `${server}:${r.from}..${r.to}`;

/** The first day a server's import must fetch, from its checkpoint (null: nothing to do). */
export function firstDay(range: SalesRange, cursor: string | null, opts: SalesOptions): string | null {
  let start = range.from;
  if (opts.resume && cursor && cursor >= range.from && cursor <= range.to) start = addDays(cursor, 1);
  // The latest days are never final (late shift closures): always fetch them again.
  const recent = addDays(opts.today, -opts.repullDays);
  if (start > recent) start = recent < range.from ? range.from : recent;
  return start <= range.to ? start : null;
}

/** Our product key of a sales line: the dish code (what Odoo and the forecasts use), else its id. */
export function productCodeOf(r: IikoSalesRow): string | null {
  return store.clipProduct(r.dishCode) ?? store.clipProduct(r.dishId ? normalizeGuid(r.dishId) : null);
}

export async function importSales(
  ctx: ServiceContext,
  clients: IikoClient[],
  runId: number,
  range: SalesRange,
  opts: SalesOptions,
  signal: AbortSignal,
  logger: Logger,
): Promise<JobOutcome<SalesCounters>> {
  const counters: SalesCounters = {
    servers_total: clients.length, servers_succeeded: 0, servers_failed: 0, days_total: 0,
    days_imported: 0, rows_upserted: 0, rows_skipped_unknown_department: 0, rows_deleted: 0,
  };
  const progress = progressReporter(ctx, runId, counters);
  const checkStop = stopChecker(ctx, runId, signal);
  const failures: ServerFailure[] = [];

  // Plan first (checkpoints), so the run knows its total before the first request.
  const plans = await Promise.all(
    clients.map(async (client) => {
      const target = checkpointTarget(client.name, range);
      if (!opts.resume) await store.clearCheckpoint(ctx.db, SALES_KIND, target);
      const cursor = opts.resume ? await store.readCheckpoint(ctx.db, SALES_KIND, target) : null;
      const start = firstDay(range, cursor, opts);
      return { client, target, days: start ? daysBetween(start, range.to) : [] };
    }),
  );
  counters.days_total = plans.reduce((n, p) => n + p.days.length, 0);
  const total = counters.days_total;
  await progress('started', {
    done: 0, total,
    message: plans.map((p) => `${p.client.name}: ${p.days.length ? `${p.days[0]}..${range.to}` : 'nothing to import'}`).join(', '),
  });

  // A day's report may take minutes upstream: a cancel or a shutdown drops the request in flight
  // at once. Taken here, right before the try that disposes of it (watch() reads in the background).
  const stopSignal = checkStop.watch();
  const one = async ({ client, target, days }: (typeof plans)[number]) => {
    const server = client.name;
    if (!days.length) {
      counters.servers_succeeded++;
      await progress('server', { done: counters.days_imported, total, message: `${server}: nothing to import` });
      return;
    }
    let imported = 0;
    let current: string | null = null;
    try {
      await checkStop();
      const ids = await store.departmentIds(ctx.db, server);
      await client.session(async (s) => {
        // A prefetched day may fail while the previous one is written: mark it handled at once
        // (it is awaited later, which rethrows), so it is never an unhandled rejection.
        const fetchDay = (day: string) => {
          const p = s.sales(day, { signal: stopSignal });
          p.catch(() => undefined);
          return p;
        };
        let next: Promise<IikoSalesRow[]> | null = fetchDay(days[0]);
        try {
          for (let i = 0; i < days.length; i++) {
            const day = (current = days[i]);
            const rows: IikoSalesRow[] = await next!;
            next = null;
            await checkStop();
            // The next day's report is computed upstream while this one is written.
            if (i + 1 < days.length) next = fetchDay(days[i + 1]);
            const known: Array<store.SalesRowIn> = [];
            let skipped = 0;
            for (const r of rows) {
              const departmentId = ids.get(normalizeGuid(String(r.departmentId ?? '')));
              const productCode = productCodeOf(r);
              if (departmentId === undefined || productCode === null) {
                skipped++;
                continue;
              }
              known.push({
                departmentId,
                productCode,
                productName: store.clipProduct(r.dishName),
                quantity: Number.isFinite(r.quantity) ? r.quantity : 0,
                amountMinor: Number.isFinite(r.amountMinor) ? Math.round(r.amountMinor) : 0,
              });
            }
            const merged = store.aggregateSales(known);
            const { deleted } = await withServerLock(ctx.db, server, () =>
              store.saveSalesDay(ctx.db, server, day, merged, { kind: SALES_KIND, target, cursor: day }),
            );
            counters.days_imported++;
            imported++;
            counters.rows_upserted += merged.length;
            counters.rows_skipped_unknown_department += skipped;
            counters.rows_deleted += deleted;
            await progress('day', {
              done: counters.days_imported, total,
              message: `${server} ${day}: ${merged.length} rows${deleted ? `, ${deleted} no longer reported deleted` : ''}${skipped ? `, ${skipped} of unknown departments skipped` : ''}`,
            });
          }
        } finally {
          // Never leave a request running past the session (its token is logged out next).
          if (next) await next.catch(() => undefined);
        }
      });
      counters.servers_succeeded++;
      await progress('server', { done: counters.days_imported, total, message: `${server}: ${imported} days imported` });
    } catch (e) {
      if (e instanceof Cancelled) throw e;
      // The request was dropped because the run is stopping: that is the run's outcome, not this server's.
      if (stopSignal.aborted) throw new Cancelled(String(stopSignal.reason));
      const error = `${current ? `day ${current}: ` : ''}${describeFailure(e)}`;
      logger.warn({ err: e, server, day: current }, 'iiko: sales import of a server failed; it resumes after its last imported day');
      failures.push({ server, error });
      counters.servers_failed++;
      await progress('server-failed', { done: counters.days_imported, total, message: `${server}: ${error}` });
    }
  };
  try {
    await settleAll(plans.map(one));
  } finally {
    checkStop.dispose();
  }
  return { counters, failures };
}
