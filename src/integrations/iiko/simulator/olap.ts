/**
 * The simulator's OLAP v2 engine for SALES reports (iiko-wix-allegro.md §1.4): validates the
 * request like a strict server, filters the sales lines by the accounting-day range and value
 * filters, groups them by the requested row fields and sums the requested aggregates. Each
 * answer row has exactly the requested keys, in the requested order.
 *
 * Choices where a real server's behaviour is unknown [unverified]:
 * - an unknown field (group-by, aggregate or filter) → 400 plain text `Unknown OLAP field "X" for report SALES`;
 * - a report without an `OpenDate.Typed` DateRange filter → 400 (a real server may allow it and
 *   be slow); periodType other than CUSTOM → 400;
 * - includeLow defaults to true, includeHigh to false;
 * - `groupByColFields` must be empty; `summary` is always [] (buildSummary is accepted, ignored);
 * - TRANSACTIONS/DELIVERIES → 400 (not simulated).
 */
import { NOT_DELETED_FILTERS, SALES_AGGREGATE_FIELDS, SALES_DATE_FIELD, SALES_GROUP_FIELDS } from '../contract';
import type { RawDepartment } from '../xml';
import { dayFromEpoch, epochDay } from './generate';
import type { IikoSimData, IikoSimSaleRow } from './types';

export interface OlapReply {
  status: number;
  /** JSON (200) or plain text (errors). */
  body: string;
  rows: number;
}

const bad = (text: string): OlapReply => ({ status: 400, body: text, rows: 0 });

type Getter = (r: IikoSimSaleRow, depts: Map<string, RawDepartment>) => string | null;

const GROUP: Record<(typeof SALES_GROUP_FIELDS)[number], Getter> = {
  'OpenDate.Typed': (r) => r.date,
  Department: (r, d) => d.get(r.departmentId.toLowerCase())?.name ?? null,
  'Department.Id': (r) => r.departmentId.toLowerCase(),
  'Department.Code': (r, d) => d.get(r.departmentId.toLowerCase())?.code ?? null,
  DishId: (r) => r.dishId.toLowerCase(),
  DishName: (r) => r.dishName,
  DishCode: (r) => r.dishCode,
};

const AGG: Record<(typeof SALES_AGGREGATE_FIELDS)[number], { get: (r: IikoSimSaleRow) => number; decimals: number }> = {
  DishAmountInt: { get: (r) => r.quantity, decimals: 3 },
  DishSumInt: { get: (r) => r.amount, decimals: 2 },
  DishDiscountSumInt: { get: (r) => r.amount - (r.discount ?? 0), decimals: 2 },
};

const isGroupField = (f: string): f is keyof typeof GROUP => Object.prototype.hasOwnProperty.call(GROUP, f);
const isAggField = (f: string): f is keyof typeof AGG => Object.prototype.hasOwnProperty.call(AGG, f);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const DATE_TIME_RE = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/** ms since epoch of 'yyyy-MM-dd' or 'yyyy-MM-ddTHH:mm[:ss[.SSS]]' (server-local time = UTC here). */
function parseWhen(s: unknown): number {
  if (typeof s !== 'string') return NaN;
  const m = DATE_TIME_RE.exec(s.trim());
  if (!m) return NaN;
  const day = epochDay(m[1]!);
  if (Number.isNaN(day)) return NaN;
  const h = Number(m[2] ?? 0);
  const mi = Number(m[3] ?? 0);
  const sec = Number(m[4] ?? 0);
  const ms = Number((m[5] ?? '0').padEnd(3, '0'));
  if (h > 23 || mi > 59 || sec > 59) return NaN;
  return day * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
}

type RowFilter = (r: IikoSimSaleRow, depts: Map<string, RawDepartment>) => boolean;

function rowsOf(data: IikoSimData, firstDay: number, lastDay: number): Iterable<IikoSimSaleRow> {
  if (lastDay < firstDay) return [];
  const sales = data.sales;
  if (!Array.isArray(sales)) {
    const gFrom = epochDay(sales.from);
    const gTo = epochDay(sales.to);
    const a = Math.max(firstDay, gFrom);
    const b = Math.min(lastDay, gTo);
    return (function* () {
      for (let d = a; d <= b; d++) yield* sales.day(dayFromEpoch(d));
    })();
  }
  const from = dayFromEpoch(firstDay);
  const to = dayFromEpoch(lastDay);
  return sales.filter((r) => r.date >= from && r.date <= to);
}

export function runOlap(body: unknown, data: IikoSimData, deptIndex: Map<string, RawDepartment>): OlapReply {
  if (!isObj(body)) return bad('Request body must be a JSON object');
  const reportType = body.reportType;
  if (reportType !== 'SALES') {
    return bad(`Unsupported report type ${JSON.stringify(reportType)} (the simulator serves SALES only)`);
  }
  const groupBy = body.groupByRowFields ?? [];
  const aggregates = body.aggregateFields ?? [];
  const cols = body.groupByColFields ?? [];
  if (!Array.isArray(groupBy) || !groupBy.every((f) => typeof f === 'string')) return bad('groupByRowFields must be an array of field names');
  if (!Array.isArray(aggregates) || !aggregates.every((f) => typeof f === 'string')) return bad('aggregateFields must be an array of field names');
  if (!Array.isArray(cols) || cols.length > 0) return bad('groupByColFields is not supported by the simulator (send [])');
  if (groupBy.length + aggregates.length === 0) return bad('Report has no fields');
  const seen = new Set<string>();
  for (const f of [...groupBy, ...aggregates] as string[]) {
    if (seen.has(f)) return bad(`Field "${f}" is requested twice`);
    seen.add(f);
  }
  for (const f of groupBy as string[]) {
    if (!isGroupField(f)) return bad(isAggField(f) ? `Field "${f}" cannot be used for grouping` : `Unknown OLAP field "${f}" for report SALES`);
  }
  for (const f of aggregates as string[]) {
    if (!isAggField(f)) return bad(isGroupField(f) ? `Field "${f}" cannot be aggregated` : `Unknown OLAP field "${f}" for report SALES`);
  }

  // Filters.
  const filters = body.filters ?? {};
  if (!isObj(filters)) return bad('filters must be an object');
  const range = filters[SALES_DATE_FIELD];
  if (range === undefined) return bad(`A ${SALES_DATE_FIELD} filter (DateRange) is required`);
  if (!isObj(range) || range.filterType !== 'DateRange') return bad(`${SALES_DATE_FIELD} filter must be a DateRange`);
  if (range.periodType !== undefined && range.periodType !== 'CUSTOM') return bad(`periodType ${JSON.stringify(range.periodType)} is not supported (use CUSTOM)`);
  const from = parseWhen(range.from);
  const to = parseWhen(range.to);
  if (Number.isNaN(from) || Number.isNaN(to)) return bad(`${SALES_DATE_FIELD}: from/to must be yyyy-MM-dd or yyyy-MM-ddTHH:mm:ss.SSS`);
  const includeLow = range.includeLow === undefined ? true : range.includeLow === true || range.includeLow === 'true';
  const includeHigh = range.includeHigh === undefined ? false : range.includeHigh === true || range.includeHigh === 'true';
  // A day d (its start, 00:00) is in the report when from ≤/< d and d </≤ to.
  const DAY = 86_400_000;
  let firstDay = Math.ceil(from / DAY);
  if (!includeLow && firstDay * DAY === from) firstDay++;
  let lastDay = Math.floor(to / DAY);
  if (!includeHigh && lastDay * DAY === to) lastDay--;

  const checks: RowFilter[] = [];
  for (const [field, spec] of Object.entries(filters)) {
    if (field === SALES_DATE_FIELD) continue;
    if (!isObj(spec) || (spec.filterType !== 'IncludeValues' && spec.filterType !== 'ExcludeValues') || !Array.isArray(spec.values)) {
      return bad(`Filter on "${field}" must be IncludeValues or ExcludeValues with values`);
    }
    const values = new Set(spec.values.map((v) => String(v)));
    const include = spec.filterType === 'IncludeValues';
    if (Object.prototype.hasOwnProperty.call(NOT_DELETED_FILTERS, field)) {
      // Every simulated line is NOT_DELETED.
      const keep = values.has('NOT_DELETED') === include;
      checks.push(() => keep);
      continue;
    }
    if (!isGroupField(field)) return bad(`Unknown OLAP field "${field}" for report SALES`);
    const get = GROUP[field];
    const lower = field === 'Department.Id' || field === 'DishId';
    const set = lower ? new Set([...values].map((v) => v.toLowerCase())) : values;
    checks.push((r, d) => {
      const v = get(r, d);
      return (v !== null && set.has(v)) === include;
    });
  }

  // Group and sum.
  const getters = (groupBy as Array<keyof typeof GROUP>).map((f) => GROUP[f]);
  const aggs = (aggregates as Array<keyof typeof AGG>).map((f) => AGG[f]);
  const groups = new Map<string, { keys: Array<string | null>; sums: number[] }>();
  for (const r of rowsOf(data, firstDay, lastDay)) {
    if (checks.length && !checks.every((c) => c(r, deptIndex))) continue;
    const keys = getters.map((g) => g(r, deptIndex));
    const k = keys.length === 1 ? String(keys[0]) : keys.join('\u0000');
    let g = groups.get(k);
    if (!g) {
      g = { keys, sums: aggs.map(() => 0) };
      groups.set(k, g);
    }
    for (let i = 0; i < aggs.length; i++) g.sums[i]! += aggs[i]!.get(r);
  }

  const out: Array<Record<string, string | number | null>> = [];
  for (const g of groups.values()) {
    const row: Record<string, string | number | null> = {};
    for (let i = 0; i < groupBy.length; i++) row[groupBy[i] as string] = g.keys[i]!;
    for (let i = 0; i < aggs.length; i++) {
      const f = 10 ** aggs[i]!.decimals;
      row[aggregates[i] as string] = Math.round(g.sums[i]! * f) / f;
    }
    out.push(row);
  }
  return { status: 200, body: JSON.stringify({ data: out, summary: [] }), rows: out.length };
}
