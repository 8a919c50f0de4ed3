/**
 * Fiscal receipts: intake, reads, operator actions (retry, cancel) and the live feed of status
 * changes. Printing itself is the printer worker's (src/jobs/receipt-printer.ts); this module
 * only stores what callers asked for and wakes the worker.
 *
 * Durability: a receipt is committed (SQLite WAL + synchronous=FULL, or PostgreSQL) before
 * receipts.create / createReceipt answers, and the client UUID is unique, so a retried
 * submission (a lost HTTP answer, Odoo resending) finds the first receipt instead of queueing a
 * second one.
 */
import { AppError } from '../errors';
import { nowIso } from '../db/time';
import { Receipt, ReceiptAttempt } from '../models';
import type { ServiceContext } from './context';
import { paginate, type Page, type PageArgs } from './pagination';
import { registerInputCheck } from '../device/open-register';
import { validateReceiptInput, type ReceiptInput } from './receipt-input';

/**
 * queued → printing → fiscalised, with dead (needs an operator: retry or cancel) and
 * cancelled (never printed) as side exits. `printing` also covers "outcome unknown": the worker
 * reconciles such a receipt with the register before anything else.
 */
export const RECEIPT_STATUSES = ['queued', 'printing', 'fiscalised', 'dead', 'cancelled'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

export interface ReceiptKey {
  id?: number | null;
  clientUuid?: string | null;
}

export interface CreateReceiptResult {
  receipt: Receipt;
  /** true: a receipt with this client UUID existed; it is returned unchanged. */
  duplicate: boolean;
}

export async function createReceipt(ctx: ServiceContext, input: ReceiptInput): Promise<CreateReceiptResult> {
  const kkt = ctx.integrations.kkt;
  // The register's limits come from configuration (model, VAT table), so they apply while it is offline too.
  let v: ReturnType<typeof validateReceiptInput>;
  try {
    v = validateReceiptInput(input, { vatCodes: ctx.config.kkt.vatCodes, registerCheck: registerInputCheck(ctx.config.kkt) });
  } catch (e) {
    // A resubmission returns the first receipt even if its content would not pass today
    // (a VAT rate removed from the table since, say): only the UUID decides.
    const uuid = typeof input.clientUuid === 'string' ? input.clientUuid.trim().toLowerCase() : '';
    const first = uuid ? await Receipt.query(ctx.db).findOne({ clientUuid: uuid }) : undefined;
    if (first) return { receipt: first, duplicate: true };
    throw e;
  }
  const now = nowIso();
  // One statement for a new receipt: the insert returns the stored row. Two submissions of one
  // UUID racing: the second insert does nothing, and the first receipt is read and returned.
  const inserted = await ctx.db('receipts')
    .insert({
      client_uuid: v.clientUuid,
      status: 'queued',
      operation: v.operation,
      tax_system: v.taxSystem,
      items: JSON.stringify(v.items),
      payments: JSON.stringify(v.payments),
      total_minor: v.totalMinor,
      change_minor: v.changeMinor,
      customer_contact: v.customerContact,
      cashier_name: v.cashierName,
      print_payload: JSON.stringify(v.printPayload),
      attempt_count: 0,
      created_at: now,
      updated_at: now,
    })
    .onConflict('client_uuid')
    .ignore()
    .returning('*');
  if (inserted.length === 0) {
    const first = await Receipt.query(ctx.db).findOne({ clientUuid: v.clientUuid });
    if (!first) throw new Error(`receipt ${v.clientUuid} neither inserted nor found`);
    return { receipt: first, duplicate: true };
  }
  const receipt = Receipt.fromDatabaseJson(inserted[0] as object);
  publishReceipt(ctx, receipt);
  kkt?.wake();
  return { receipt, duplicate: false };
}

export async function getReceipt(ctx: ServiceContext, key: ReceiptKey): Promise<Receipt> {
  if (key.id == null && !key.clientUuid) {
    throw AppError.badInput('Give a receipt id or client UUID', [{ field: 'id', message: 'an id or a client UUID is required' }]);
  }
  const r =
    key.id != null
      ? await Receipt.query(ctx.db).findById(key.id)
      : await Receipt.query(ctx.db).findOne({ clientUuid: key.clientUuid!.trim().toLowerCase() });
  if (!r) throw AppError.notFound('Receipt', key.id ?? key.clientUuid ?? '');
  return r;
}

export interface ReceiptFilter {
  status?: string | null;
  /** The register's shift the receipt was printed in (compare with its Z report). */
  shiftNumber?: number | null;
  /** Accepted at or after this instant (ISO-8601). */
  createdFrom?: string | null;
  /** Accepted before this instant (ISO-8601): from/before make back-to-back ranges. */
  createdBefore?: string | null;
}

export async function listReceipts(
  ctx: ServiceContext,
  filter: ReceiptFilter = {},
  page: PageArgs = {},
  order: { field: 'id' | 'createdAt'; direction: 'asc' | 'desc' } = { field: 'id', direction: 'desc' },
): Promise<Page<Receipt>> {
  const q = ctx.db('receipts');
  if (filter.status) q.where('receipts.status', filter.status);
  if (filter.shiftNumber != null) q.where('receipts.shiftNumber', filter.shiftNumber);
  // Stored timestamps are canonical ISO-8601 UTC on SQLite (text) and timestamptz on PostgreSQL:
  // a canonical bound compares correctly on both.
  const from = instant(filter.createdFrom, 'createdFrom');
  const before = instant(filter.createdBefore, 'createdBefore');
  if (from) q.where('receipts.createdAt', '>=', from);
  if (before) q.where('receipts.createdAt', '<', before);
  return paginate(q, 'receipts', page, { column: order.field, direction: order.direction }, (r) => Receipt.fromDatabaseJson(r));
}

function instant(value: string | null | undefined, field: string): string | null {
  if (value == null || value === '') return null;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) {
    throw AppError.badInput('A time filter must be an ISO-8601 date-time, e.g. 2026-11-22T00:00:00+03:00', [{ field, message: 'not an ISO-8601 date-time' }]);
  }
  return new Date(t).toISOString();
}

export async function listAttempts(ctx: ServiceContext, receiptId: number): Promise<ReceiptAttempt[]> {
  return ReceiptAttempt.query(ctx.db).where({ receiptId }).orderBy('id');
}

/** A dead receipt goes back to the queue (after the operator fixed the cause). */
export async function retryReceipt(ctx: ServiceContext, key: ReceiptKey): Promise<Receipt> {
  const r = await getReceipt(ctx, key);
  const n = await ctx.db('receipts')
    .where({ id: r.id, status: 'dead' })
    .update({ status: 'queued', next_attempt_at: null, updated_at: nowIso() });
  if (n === 0) {
    throw new AppError('CONFLICT', `Receipt ${r.id} is ${(await getReceipt(ctx, { id: r.id })).status}; only a dead receipt can be retried`, { status: r.status });
  }
  const after = await getReceipt(ctx, { id: r.id });
  publishReceipt(ctx, after);
  ctx.integrations.kkt?.wake();
  return after;
}

/**
 * A queued or dead receipt is withdrawn; it will never be printed. A receipt being printed or
 * already fiscalised cannot be cancelled: a sale in the FN is undone by a return receipt.
 */
export async function cancelReceipt(ctx: ServiceContext, key: ReceiptKey): Promise<Receipt> {
  const r = await getReceipt(ctx, key);
  // Conditional update: the worker claims a queued receipt the same way, so exactly one wins.
  const n = await ctx.db('receipts')
    .where({ id: r.id })
    .whereIn('status', ['queued', 'dead'])
    .update({ status: 'cancelled', next_attempt_at: null, updated_at: nowIso() });
  if (n === 0) {
    const now = await getReceipt(ctx, { id: r.id });
    throw new AppError(
      'CONFLICT',
      now.status === 'cancelled'
        ? `Receipt ${r.id} is already cancelled`
        : `Receipt ${r.id} is ${now.status}; only a queued or dead receipt can be cancelled (a fiscalised sale is undone by a return receipt)`,
      { status: now.status },
    );
  }
  const after = await getReceipt(ctx, { id: r.id });
  publishReceipt(ctx, after);
  return after;
}

/**
 * Subscribers of RECEIPT_UPDATED (watchReceipts) per event bus. Publishing needs the whole row
 * (items, payments: parsed JSON); the printer skips reading it back when nobody listens.
 */
const watchers = new WeakMap<object, number>();

export function hasReceiptWatchers(ctx: ServiceContext): boolean {
  return (watchers.get(ctx.events) ?? 0) > 0;
}

export function publishReceipt(ctx: ServiceContext, r: Receipt): void {
  ctx.events.publish('RECEIPT_UPDATED', r);
}

/**
 * Status changes as they happen. With a key: that receipt's current state first, then its
 * changes until it is fiscalised or cancelled. Without: every receipt's changes, forever.
 */
export async function* watchReceipts(ctx: ServiceContext, key: ReceiptKey = {}): AsyncGenerator<Receipt> {
  const live = ctx.events.subscribe('RECEIPT_UPDATED')[Symbol.asyncIterator]();
  // The pub/sub registers its listener on the first next(): ask before reading the current state.
  let pending = live.next();
  const final = (s: string) => s === 'fiscalised' || s === 'cancelled';
  watchers.set(ctx.events, (watchers.get(ctx.events) ?? 0) + 1);
  try {
    let id: number | null = null;
    let lastUpdate = '';
    if (key.id != null || key.clientUuid) {
      const r = await getReceipt(ctx, key);
      id = r.id;
      lastUpdate = `${r.status}|${r.updatedAt}|${r.attemptCount}`;
      yield r;
      if (final(r.status)) return;
    }
    while (true) {
      const next = await pending;
      if (next.done) return;
      pending = live.next();
      const r = next.value as Receipt;
      if (id !== null) {
        if (r.id !== id) continue;
        const tag = `${r.status}|${r.updatedAt}|${r.attemptCount}`;
        if (tag === lastUpdate) continue;
        lastUpdate = tag;
      }
      yield r;
      if (id !== null && final(r.status)) return;
    }
  } finally {
    watchers.set(ctx.events, (watchers.get(ctx.events) ?? 1) - 1);
    await live.return?.();
  }
}

/** Counts per status, for the register's status page and metrics. */
export async function receiptCounts(ctx: ServiceContext): Promise<Record<ReceiptStatus, number>> {
  const rows = (await ctx.db('receipts').select('status').count({ n: '*' }).groupBy('status')) as Array<{ status: string; n: number | string }>;
  const out = Object.fromEntries(RECEIPT_STATUSES.map((s) => [s, 0])) as Record<ReceiptStatus, number>;
  for (const r of rows) if (r.status in out) out[r.status as ReceiptStatus] = Number(r.n);
  return out;
}
