/**
 * Relay-style cursor pagination over any knex query, with keyset cursors (stable under
 * inserts, no OFFSET scans). A cursor encodes the sort value and the id of a row; order is
 * always (column, id) so ties are broken deterministically.
 */
import type { Knex } from 'knex';
import { AppError } from '../errors';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface OrderSpec {
  /** camelCase column of the queried table; must be NOT NULL. */
  column: string;
  direction: 'asc' | 'desc';
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Page<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  /** Counts lazily: only a request that asks for totalCount pays for the COUNT query. */
  totalCount: () => Promise<number>;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

type Key = [value: string | number, id: number];

export function encodeCursor(key: Key): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, field: string): Key {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 2 && Number.isInteger(key[1])) return key as Key;
  } catch {
    /* fall through */
  }
  throw AppError.badInput(`Invalid cursor in "${field}"`, [{ field, message: 'not a cursor returned by this API' }]);
}

function checkSize(n: number | null | undefined, field: string): void {
  if (n === null || n === undefined) return;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) {
    throw AppError.badInput(`"${field}" must be an integer between 0 and ${MAX_PAGE_SIZE}`, [
      { field, message: `must be 0..${MAX_PAGE_SIZE}` },
    ]);
  }
}

/**
 * @param base  a query already filtered (no order, limit or select applied)
 * @param table the table name, to qualify columns
 */
export async function paginate<T extends { id: number }>(
  base: Knex.QueryBuilder,
  table: string,
  args: PageArgs,
  order: OrderSpec,
  map: (row: any) => T = (r) => r as T,
  /** Columns to read (camelCase); default all. */
  columns?: readonly string[],
): Promise<Page<T>> {
  checkSize(args.first, 'first');
  checkSize(args.last, 'last');
  if (args.first != null && args.last != null) {
    throw AppError.badInput('Pass either "first" or "last", not both', [{ field: 'last', message: 'conflicts with first' }]);
  }
  const backward = args.last != null && args.first == null;
  const size = (backward ? args.last : args.first) ?? DEFAULT_PAGE_SIZE;
  const col = `${table}.${order.column}`;
  const idCol = `${table}.id`;
  // Walking backwards reads the index in the opposite direction, then reverses the slice.
  const dir = order.direction === 'asc' !== backward ? 'asc' : 'desc';

  const countQuery = base.clone();
  const q = base.clone().select(columns ? columns.map((c) => `${table}.${c}`) : `${table}.*`);
  const applyKey = (key: Key, after: boolean) => {
    const ascending = order.direction === 'asc';
    const op = ascending === after ? '>' : '<';
    q.where((w) => w.where(col, op, key[0]).orWhere((w2) => w2.where(col, key[0]).andWhere(idCol, op, key[1])));
  };
  if (args.after) applyKey(decodeCursor(args.after, 'after'), true);
  if (args.before) applyKey(decodeCursor(args.before, 'before'), false);
  q.orderBy([{ column: col, order: dir }, { column: idCol, order: dir }]).limit(size + 1);

  const rows = (await q) as any[];
  const more = rows.length > size;
  const slice = rows.slice(0, size);
  if (backward) slice.reverse();
  const nodes = slice.map(map);
  const edges = nodes.map((node, i) => ({ node, cursor: encodeCursor([(slice[i] as any)[order.column], node.id]) }));
  let total: Promise<number> | undefined;
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? Boolean(args.before) : more,
      hasPreviousPage: backward ? more : Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: () =>
      (total ??= countQuery
        .clearSelect()
        .count({ n: '*' })
        .first()
        .then((r: any) => Number(r?.n ?? 0))),
  };
}
