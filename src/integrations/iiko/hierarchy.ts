/**
 * The department tree of one iiko server, from the flat list `corporation/departments` gives.
 *
 * iiko lists items in any order (children often before their parents), marks a root with an
 * empty parentId, "0", the all-zero GUID or no element at all, and may point at a parent it does
 * not list (filtered out, or deleted). Anything that is not a listed id makes a root; a cycle or a
 * repeated id is refused, since no tree can be stored from it.
 */
import { NULL_GUID, normalizeGuid } from '../../db/time';
import type { RawDepartment } from './xml';

export interface HierarchyNode extends RawDepartment {
  /** The parent's id (lower-case), or null for a root. */
  parentGuid: string | null;
  /** 0 for a root. */
  depth: number;
}

export interface Hierarchy {
  /** Every department, parents before children (level by level), ids lower-cased. */
  nodes: HierarchyNode[];
  /** Roots whose parentId named an id the list does not contain. */
  rootsFromMissingParent: number;
}

export class HierarchyError extends Error {
  constructor(
    readonly problem: 'cycle' | 'duplicate' | 'invalid',
    /** The offending ids (the members of the cycle(s), the repeated ids, …). */
    readonly ids: string[],
    message: string,
  ) {
    super(message);
    this.name = 'HierarchyError';
  }
}

/** Values iiko uses for "no parent". */
function isRootMarker(parent: string): boolean {
  return parent === '' || parent === '0' || parent === NULL_GUID || /^0+$/.test(parent.replace(/-/g, ''));
}

const MAX_LISTED = 20;
const list = (ids: string[]) => ids.slice(0, MAX_LISTED).join(', ') + (ids.length > MAX_LISTED ? `, … (${ids.length} in all)` : '');

export function buildHierarchy(raw: RawDepartment[]): Hierarchy {
  const byId = new Map<string, { d: RawDepartment; id: string; parent: string | null }>();
  const duplicates = new Set<string>();
  const invalid: string[] = [];
  for (const d of raw) {
    const id = normalizeGuid(d.id ?? '');
    // Ours are GUIDs (36 characters); anything longer cannot be an iiko id (nor stored as one).
    if (!id || isRootMarker(id) || id.length > 36) {
      invalid.push(JSON.stringify(d.id ?? null));
      continue;
    }
    if (byId.has(id)) duplicates.add(id);
    const p = d.parentId == null ? '' : normalizeGuid(d.parentId);
    byId.set(id, { d, id, parent: isRootMarker(p) ? null : p });
  }
  if (invalid.length) {
    throw new HierarchyError('invalid', invalid, `Departments without a usable id: ${list(invalid)}`);
  }
  if (duplicates.size) {
    const ids = [...duplicates];
    throw new HierarchyError('duplicate', ids, `Department ids listed more than once: ${list(ids)}`);
  }

  // Children lists, then a breadth-first walk from the roots: parents come out before children
  // and the depth is known on the way, without recursion (trees can be thousands deep).
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  let rootsFromMissingParent = 0;
  for (const n of byId.values()) {
    if (n.parent === null) {
      roots.push(n.id);
    } else if (!byId.has(n.parent)) {
      n.parent = null;
      roots.push(n.id);
      rootsFromMissingParent++;
    } else {
      let c = children.get(n.parent);
      if (!c) children.set(n.parent, (c = []));
      c.push(n.id);
    }
  }
  const nodes: HierarchyNode[] = [];
  let level = roots;
  for (let depth = 0; level.length; depth++) {
    const next: string[] = [];
    for (const id of level) {
      const n = byId.get(id)!;
      nodes.push({ ...n.d, id, parentId: n.parent, parentGuid: n.parent, depth });
      const c = children.get(id);
      if (c) for (const k of c) next.push(k);
    }
    level = next;
  }

  if (nodes.length < byId.size) {
    // Whatever the walk did not reach sits on a cycle or below one: name the cycles' members.
    const placed = new Set(nodes.map((n) => n.id));
    const onCycle: string[] = [];
    const seen = new Set<string>();
    for (const start of byId.keys()) {
      if (placed.has(start) || seen.has(start)) continue;
      const path: string[] = [];
      const index = new Map<string, number>();
      let cur: string | null = start;
      while (cur !== null && !seen.has(cur)) {
        seen.add(cur);
        index.set(cur, path.length);
        path.push(cur);
        cur = byId.get(cur)!.parent;
      }
      if (cur !== null && index.has(cur)) onCycle.push(...path.slice(index.get(cur)!));
    }
    throw new HierarchyError('cycle', onCycle, `Department parents form a cycle: ${list(onCycle)}`);
  }
  return { nodes, rootsFromMissingParent };
}
