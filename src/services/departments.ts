/**
 * Read use-cases over the iiko side: the department tree of every configured server and the
 * daily sales history. Writes come from the iiko sync (issue 4).
 */
import { AppError } from '../errors';
import { Department } from '../models';
import type { ServiceContext } from './context';
import { paginate, type Page, type PageArgs } from './pagination';
import { whereContains } from './sql';

export interface DepartmentFilter {
  sourceServer?: string | null;
  type?: string | null;
  parentId?: number | null;
  /** Only roots (no parent). */
  rootsOnly?: boolean | null;
  includeRemoved?: boolean | null;
  search?: string | null;
}

export async function listDepartments(
  ctx: ServiceContext,
  filter: DepartmentFilter = {},
  page: PageArgs = {},
  order: { field: 'name' | 'id'; direction: 'asc' | 'desc' } = { field: 'name', direction: 'asc' },
): Promise<Page<Department>> {
  const q = ctx.db('departments');
  if (filter.sourceServer) q.where('departments.sourceServer', filter.sourceServer);
  if (filter.type) q.where('departments.type', filter.type);
  if (filter.parentId != null) q.where('departments.parentId', filter.parentId);
  if (filter.rootsOnly) q.whereNull('departments.parentId');
  if (!filter.includeRemoved) q.whereNull('departments.removedAt');
  if (filter.search) whereContains(q, 'departments.name', filter.search);
  return paginate(q, 'departments', page, { column: order.field, direction: order.direction }, (r) =>
    Department.fromDatabaseJson(r),
  );
}

export async function getDepartment(ctx: ServiceContext, id: number): Promise<Department> {
  const d = await Department.query(ctx.db).findById(id);
  if (!d) throw AppError.notFound('Department', id);
  return d;
}

export interface DepartmentNode {
  id: number;
  guid: string;
  sourceServer: string;
  code: string | null;
  name: string;
  type: string;
  taxpayerId: string | null;
  depth: number;
  children: DepartmentNode[];
}

/**
 * Deepest nesting a nested answer (JSON-RPC departments.tree) may have. Its snake_case copy and
 * JSON.stringify recurse once per level: on Node 20 with the default stack they overflow at about
 * 1,450 levels together (2,090 for JSON.stringify alone), so 500 leaves a margin for a deeper
 * caller stack. Flat answers (GraphQL departmentTree: depth + parentId) have no limit.
 */
export const MAX_NESTED_TREE_DEPTH = 500;

/**
 * The department forest, built in memory from one query (the tree is thousands of rows at
 * most). `maxDepth` cuts the tree (0 = roots only); `types` keeps matching nodes and the
 * ancestors needed to reach them. No recursion: the sync accepts chains of any depth.
 */
export async function departmentTree(
  ctx: ServiceContext,
  opts: { sourceServer?: string | null; maxDepth?: number | null; types?: string[] | null; includeRemoved?: boolean | null } = {},
): Promise<DepartmentNode[]> {
  const q = Department.query(ctx.db).orderBy(['name', 'id']);
  if (opts.sourceServer) q.where({ sourceServer: opts.sourceServer });
  if (!opts.includeRemoved) q.whereNull('removedAt');
  const rows = await q;
  const nodes = new Map<number, DepartmentNode & { parentId: number | null }>();
  for (const r of rows) {
    nodes.set(r.id, {
      id: r.id, guid: r.guid, sourceServer: r.sourceServer, code: r.code, name: r.name, type: r.type,
      taxpayerId: r.taxpayerId, depth: 0, children: [], parentId: r.parentId,
    });
  }
  const roots: DepartmentNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.parentId != null ? nodes.get(n.parentId) : undefined;
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  return pruneForest(roots, opts.maxDepth ?? Infinity, opts.types?.length ? new Set(opts.types) : null);
}

/** Depth-first post-order over an explicit stack: a node is kept once its children are decided. */
function pruneForest(roots: DepartmentNode[], maxDepth: number, types: Set<string> | null): DepartmentNode[] {
  const out: DepartmentNode[] = [];
  const stack: Array<{ n: DepartmentNode; depth: number; next: number; kept: DepartmentNode[] }> = [];
  for (const root of roots) {
    stack.push({ n: root, depth: 0, next: 0, kept: [] });
    while (stack.length) {
      const f = stack[stack.length - 1]!;
      if (f.depth < maxDepth && f.next < f.n.children.length) {
        stack.push({ n: f.n.children[f.next++]!, depth: f.depth + 1, next: 0, kept: [] });
        continue;
      }
      stack.pop();
      if (types && !types.has(f.n.type) && f.kept.length === 0) continue;
      const { parentId: _drop, children: _all, ...rest } = f.n as DepartmentNode & { parentId?: number | null };
      const node: DepartmentNode = { ...rest, depth: f.depth, children: f.kept };
      (stack.length ? stack[stack.length - 1]!.kept : out).push(node);
    }
  }
  return out;
}

/** The forest depth-first (parents before children, siblings in order), each node with its parent's id. */
export function flattenTree(forest: DepartmentNode[]): Array<DepartmentNode & { parentId: number | null }> {
  const out: Array<DepartmentNode & { parentId: number | null }> = [];
  const stack = forest.map((n) => ({ n, parentId: null as number | null })).reverse();
  while (stack.length) {
    const { n, parentId } = stack.pop()!;
    out.push({ ...n, parentId });
    for (let i = n.children.length - 1; i >= 0; i--) stack.push({ n: n.children[i]!, parentId: n.id });
  }
  return out;
}

/** The deepest node's depth (0 for roots only; -1 for an empty forest). */
export function treeHeight(forest: DepartmentNode[]): number {
  let height = -1;
  for (const n of flattenTree(forest)) height = Math.max(height, n.depth);
  return height;
}

export interface DailySalesRow {
  date: string;
  departmentId: number;
  productCode: string | null;
  quantity: number;
  amountMinor: number;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Daily totals per department (and per product when `byProduct`), within [from, to]. */
export async function dailySales(
  ctx: ServiceContext,
  input: { departmentIds?: number[] | null; productCode?: string | null; from: string; to: string; byProduct?: boolean | null },
): Promise<DailySalesRow[]> {
  for (const f of ['from', 'to'] as const) {
    if (!DATE_RE.test(input[f])) throw AppError.badInput(`"${f}" must be a date YYYY-MM-DD`, [{ field: f, message: 'expected YYYY-MM-DD' }]);
  }
  if (input.from > input.to) throw AppError.badInput('"from" is after "to"', [{ field: 'from', message: 'after to' }]);
  const q = ctx.db('dailySales')
    .select('date', 'departmentId')
    .sum({ quantity: 'quantity', amountMinor: 'amountMinor' })
    .whereBetween('date', [input.from, input.to])
    .groupBy('date', 'departmentId')
    .orderBy([{ column: 'date' }, { column: 'departmentId' }]);
  if (input.departmentIds?.length) q.whereIn('departmentId', input.departmentIds);
  if (input.productCode) q.where('productCode', input.productCode);
  if (input.byProduct) q.select('productCode').groupBy('productCode').orderBy('productCode');
  const rows = (await q) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    date: String(r.date),
    departmentId: Number(r.departmentId),
    productCode: input.byProduct ? String(r.productCode) : (input.productCode ?? null),
    quantity: Number(r.quantity),
    amountMinor: Number(r.amountMinor),
  }));
}
