/**
 * Sync runs: the durable record of every long job (force syncs, imports, printing batches)
 * and the only way progress leaves a job. Each change is stored first, then published, so a
 * subscriber, a `sync.status` poll and a CLI progress bar all see the same state, and a late
 * subscriber catches up from the stored row.
 */
import type { Knex } from 'knex';
import { isPostgres } from '../db/knex';
import { nowIso } from '../db/time';
import { AppError } from '../errors';
import { FINISHED_SYNC_STATUSES, SyncEvent, SyncRun, type SyncStatus } from '../models';
import type { ServiceContext } from './context';
import { paginate, type Page, type PageArgs } from './pagination';

export interface SyncRunView {
  id: number;
  kind: string;
  target: string;
  status: SyncStatus;
  counters: Record<string, number>;
  done: number;
  total: number | null;
  error: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  /** Wall time from start to finish (or to now while running), in milliseconds. */
  durationMs: number | null;
  /** The latest progress step, e.g. "elevations" or "parts-list P03". */
  lastStep: string | null;
}

/** One step of a run's progress, as stored and as streamed (syncProgress, CLI bars). */
export interface SyncEventView {
  runId: number;
  seq: number;
  step: string;
  /** What the step is about, e.g. the elevation name "P03". */
  message: string | null;
  done: number | null;
  total: number | null;
  /** The run's counters after this step. */
  counters: Record<string, number>;
  /** running, or the final status on the run's last event. */
  status: SyncStatus;
  at: string;
}

export interface ProgressInput {
  step: string;
  message?: string;
  done?: number;
  total?: number;
  /** Replaces the named counters (others are kept). */
  counters?: Record<string, number>;
  /** When the step happened (ISO); default: when it is stored. Batched events keep their own time. */
  at?: string;
}

export function isFinished(status: SyncStatus): boolean {
  return FINISHED_SYNC_STATUSES.includes(status);
}

export function toView(run: SyncRun): SyncRunView {
  const start = run.startedAt ? Date.parse(run.startedAt) : null;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  return {
    id: run.id,
    kind: run.kind,
    target: run.target,
    status: run.status,
    counters: run.counters ?? {},
    done: run.done,
    total: run.total,
    error: run.error,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    updatedAt: run.updatedAt,
    durationMs: start === null ? null : Math.max(0, end - start),
    lastStep: run.lastStep ?? null,
  };
}

async function load(db: Knex, id: number, forUpdate = false): Promise<SyncRun> {
  const q = SyncRun.query(db).findById(id);
  // Concurrent writers of one run (a job's parallel workers, a cancel) queue on the run's
  // row lock, so event numbers never collide. SQLite has one writer at a time anyway.
  if (forUpdate && isPostgres(db)) q.forUpdate();
  const run = await q;
  if (!run) throw AppError.notFound('Sync run', id);
  return run;
}

function eventView(e: SyncEvent): SyncEventView {
  return {
    runId: e.runId,
    seq: e.seq,
    step: e.step,
    message: e.message,
    done: e.done,
    total: e.total,
    counters: e.counters ?? {},
    status: (FINISHED_SYNC_STATUSES as readonly string[]).includes(e.step) ? (e.step as SyncStatus) : 'running',
    at: e.at,
  };
}

/** Appends an event row (next seq) inside `trx`; returns it. */
type EventFields = Pick<SyncEvent, 'step' | 'message' | 'done' | 'total' | 'counters'> & { at?: string };

async function appendEvent(trx: Knex, runId: number, e: EventFields): Promise<SyncEvent> {
  // The next number is computed in the INSERT itself: one statement, and the run's row lock
  // (load(…, true)) keeps concurrent writers of the same run in line.
  const at = e.at ?? nowIso();
  const seq = trx.raw('(select coalesce(max(seq), 0) + 1 from sync_events where run_id = ?)', [runId]);
  const row = { runId, seq, step: e.step, message: e.message, done: e.done, total: e.total, counters: JSON.stringify(e.counters ?? null), at };
  const [inserted] = await trx('syncEvents').insert(row).returning(['id', 'seq']);
  return SyncEvent.fromJson({ ...e, id: inserted.id, runId, seq: Number(inserted.seq), at }, { skipValidation: true });
}

/** Appends several event rows (consecutive seqs, in order) inside `trx`, which holds the run's lock. */
async function appendEvents(trx: Knex, runId: number, list: EventFields[]): Promise<SyncEvent[]> {
  const now = nowIso();
  const top = (await trx('syncEvents').where({ runId }).max({ seq: 'seq' }).first()) as { seq: number | string | null } | undefined;
  const first = Number(top?.seq ?? 0) + 1;
  const rows = list.map((e, i) => ({ runId, seq: first + i, step: e.step, message: e.message, done: e.done, total: e.total, counters: JSON.stringify(e.counters ?? null), at: e.at ?? now }));
  const inserted = (await trx('syncEvents').insert(rows).returning(['id', 'seq'])) as Array<{ id: number; seq: number | string }>;
  const idBySeq = new Map(inserted.map((r) => [Number(r.seq), Number(r.id)]));
  return list.map((e, i) => SyncEvent.fromJson({ ...e, id: idBySeq.get(first + i), runId, seq: first + i, at: e.at ?? now }, { skipValidation: true }));
}

async function publish(ctx: ServiceContext, run: SyncRun): Promise<SyncRunView> {
  const v = toView(run);
  ctx.events.publish('SYNC_RUN_UPDATED', run.id, v);
  return v;
}

export async function createRun(
  ctx: ServiceContext,
  input: { kind: string; target: string; total?: number | null },
): Promise<SyncRunView> {
  const now = nowIso();
  const run = await SyncRun.query(ctx.db).insertAndFetch({
    kind: input.kind,
    target: input.target,
    status: 'queued',
    counters: {},
    done: 0,
    total: input.total ?? null,
    queuedAt: now,
    updatedAt: now,
  });
  return publish(ctx, run);
}

export async function startRun(ctx: ServiceContext, id: number): Promise<SyncRunView> {
  const now = nowIso();
  await SyncRun.query(ctx.db).patch({ status: 'running', lastStep: 'started', startedAt: now, updatedAt: now }).findById(id);
  return publish(ctx, await load(ctx.db, id));
}

/**
 * Records one progress event and folds it into the run row, in one transaction of three
 * statements (lock + read the run, append the event, update the run): jobs report often.
 */
export async function reportProgress(ctx: ServiceContext, id: number, p: ProgressInput): Promise<SyncRunView> {
  return reportProgressBatch(ctx, id, [p]);
}

/**
 * Records several progress events at once, in call order, as one transaction: the run is locked
 * and read once, the events are appended in one INSERT, the run row is updated once (to the state
 * after the last event). Each event is then published in order, and the run once. Same outcome as
 * calling reportProgress for each, with a fraction of the statements and commits.
 */
export async function reportProgressBatch(ctx: ServiceContext, id: number, batch: ProgressInput[]): Promise<SyncRunView> {
  if (batch.length === 0) return getRun(ctx, id);
  const result = await ctx.db.transaction(async (trx) => {
    const current = await load(trx, id, true);
    if (isFinished(current.status)) return { run: current, events: [] as SyncEvent[] };
    let counters = current.counters ?? {};
    let done = current.done;
    let total = current.total;
    const fields: EventFields[] = batch.map((p) => {
      counters = { ...counters, ...(p.counters ?? {}) };
      done = p.done ?? done;
      total = p.total ?? total;
      return { step: p.step, message: p.message ?? null, done: p.done ?? null, total: p.total ?? null, counters, at: p.at };
    });
    const events = fields.length === 1 ? [await appendEvent(trx, id, fields[0])] : await appendEvents(trx, id, fields);
    const last = batch[batch.length - 1];
    const patch = { counters, lastStep: last.step, done, total, updatedAt: events[events.length - 1].at };
    await SyncRun.query(trx).patch(patch).findById(id);
    return { run: Object.assign(current, patch), events };
  });
  for (const e of result.events) ctx.events.publish('SYNC_EVENT', id, eventView(e));
  return publish(ctx, result.run);
}

export async function finishRun(
  ctx: ServiceContext,
  id: number,
  status: Exclude<SyncStatus, 'queued' | 'running'>,
  error?: string | null,
): Promise<SyncRunView> {
  const result = await ctx.db.transaction(async (trx) => {
    await load(trx, id, true);
    const now = nowIso();
    const changed = await SyncRun.query(trx)
      .patch({ status, lastStep: status, error: error ?? null, finishedAt: now, updatedAt: now })
      .findById(id)
      .whereIn('status', ['queued', 'running']);
    const run = await load(trx, id);
    if (!changed) return { run, event: null };
    // The last event carries the final status, so an event stream knows where it ends.
    const event = await appendEvent(trx, id, { step: status, message: error ?? null, done: run.done, total: run.total, counters: run.counters });
    return { run, event };
  });
  if (!result.event) return toView(result.run);
  ctx.events.publish('SYNC_EVENT', id, eventView(result.event));
  return publish(ctx, result.run);
}

/** Whether a run was cancelled (jobs check between steps). */
export async function isCancelled(ctx: ServiceContext, id: number): Promise<boolean> {
  const run = await SyncRun.query(ctx.db).findById(id).select('status');
  return run?.status === 'cancelled';
}

/** Asks a queued or running job to stop; the job sees the status and ends at its next step. */
export async function cancelRun(ctx: ServiceContext, id: number): Promise<SyncRunView> {
  const run = await load(ctx.db, id);
  if (isFinished(run.status)) {
    throw new AppError('CONFLICT', `Sync run ${id} already ${run.status}`, { status: run.status });
  }
  return finishRun(ctx, id, 'cancelled', 'cancelled on request');
}

/** At start-up: runs left queued or running by a previous process are marked interrupted. */
export async function markInterruptedRuns(ctx: ServiceContext): Promise<number> {
  const now = nowIso();
  return SyncRun.query(ctx.db)
    .patch({ status: 'interrupted', lastStep: 'interrupted', error: 'the process stopped while this run was active', finishedAt: now, updatedAt: now })
    .whereIn('status', ['queued', 'running']);
}

export async function getRun(ctx: ServiceContext, id: number): Promise<SyncRunView> {
  return toView(await load(ctx.db, id));
}

export interface SyncRunFilter {
  kind?: string | null;
  status?: SyncStatus | null;
  target?: string | null;
}

export async function listRuns(
  ctx: ServiceContext,
  filter: SyncRunFilter,
  page: PageArgs,
  order: { column: 'id' | 'queuedAt'; direction: 'asc' | 'desc' } = { column: 'id', direction: 'desc' },
): Promise<Page<SyncRunView>> {
  const q = ctx.db('syncRuns');
  if (filter.kind) q.where('syncRuns.kind', filter.kind);
  if (filter.status) q.where('syncRuns.status', filter.status);
  if (filter.target) q.where('syncRuns.target', filter.target);
  return paginate(q, 'syncRuns', page, order, (row) => toView(SyncRun.fromDatabaseJson(row)));
}

export async function listRunEvents(ctx: ServiceContext, runId: number, afterSeq = 0): Promise<SyncEventView[]> {
  await load(ctx.db, runId);
  return (await SyncEvent.query(ctx.db).where({ runId }).where('seq', '>', afterSeq).orderBy('seq')).map(eventView);
}

/**
 * Streams a run's progress events: every stored event first (a late subscriber catches up),
 * then live ones, ending with the event that carries the final status. Subscribes before
 * reading so nothing falls between the replay and the live stream.
 */
export async function* watchEvents(ctx: ServiceContext, id: number): AsyncGenerator<SyncEventView> {
  const live = ctx.events.subscribe('SYNC_EVENT', id)[Symbol.asyncIterator]();
  // The pub/sub registers its listener on the first next(): ask now, before the replay.
  let pending = live.next();
  try {
    const run = await load(ctx.db, id);
    let last = 0;
    for (const e of await listRunEvents(ctx, id)) {
      last = e.seq;
      yield e;
      if (isFinished(e.status)) return;
    }
    if (isFinished(run.status)) return; // finished before events existed (legacy rows)
    while (true) {
      const next = await pending;
      if (next.done) return;
      pending = live.next();
      const e = next.value as SyncEventView;
      if (e.seq <= last) continue;
      last = e.seq;
      yield e;
      if (isFinished(e.status)) return;
    }
  } finally {
    await live.return?.();
  }
}

/**
 * Streams a run's state: first the stored state (so late subscribers catch up), then every
 * update, ending after a finished state. Subscribes before reading so no update is missed.
 */
export async function* watchRun(ctx: ServiceContext, id: number): AsyncGenerator<SyncRunView> {
  const updates = ctx.events.subscribe('SYNC_RUN_UPDATED', id)[Symbol.asyncIterator]();
  // The pub/sub registers its listener on the first next(): ask now, before reading the state.
  let pending = updates.next();
  try {
    const current = await getRun(ctx, id);
    yield current;
    if (isFinished(current.status)) return;
    let lastUpdated = current.updatedAt;
    while (true) {
      const next = await pending;
      if (next.done) return;
      pending = updates.next();
      const v = next.value as SyncRunView;
      if (v.updatedAt < lastUpdated && !isFinished(v.status)) continue; // stale, already covered
      lastUpdated = v.updatedAt;
      yield v;
      if (isFinished(v.status)) return;
    }
  } finally {
    await updates.return?.();
  }
}
