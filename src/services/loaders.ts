/**
 * Per-request DataLoaders: every relation a GraphQL field resolves is batched into one
 * `WHERE fk IN (...)` statement per nesting level, so a query's statement count grows with its
 * depth, not with the number of rows (tests/graphql-n-plus-one.test.ts counts them).
 */
import DataLoader from 'dataloader';
import type { Knex } from 'knex';
import type { QueryBuilder } from 'objection';
import {
  Department, Directory, Elevation, ElevationGlass, ElevationPart, MarketplaceMapping, ModelVersion,
  Phase, Project, ReceiptAttempt, StockLevel, SyncEvent,
} from '../models';

type Keyed = { id: number };
/** Any objection model class (typed loosely: objection's static generics do not infer well). */
type Queryable = { query(db: Knex): QueryBuilder<any, any> };

function byId<M extends Keyed>(db: Knex, model: Queryable): DataLoader<number, M | null> {
  return new DataLoader<number, M | null>(async (ids) => {
    const rows = (await model.query(db).whereIn('id', ids as number[])) as M[];
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

function hasMany<M>(
  db: Knex,
  model: Queryable,
  fk: string,
  order: Array<{ column: string; order?: 'asc' | 'desc' }> = [{ column: 'id' }],
  /** Extra condition or projection, e.g. leaving out rows marked removed. */
  where?: (q: QueryBuilder<any, any>) => void,
): DataLoader<number, M[]> {
  return new DataLoader<number, M[]>(async (keys) => {
    const q = model.query(db).whereIn(fk, keys as number[]).orderBy(order);
    where?.(q);
    const rows = (await q) as M[];
    const groups = new Map<number, M[]>(keys.map((k) => [k, []]));
    for (const r of rows) groups.get((r as unknown as Record<string, number>)[fk])?.push(r);
    return keys.map((k) => groups.get(k) ?? []);
  });
}

export function createLoaders(db: Knex) {
  return {
    directory: byId<Directory>(db, Directory),
    project: byId<Project>(db, Project),
    phase: byId<Phase>(db, Phase),
    department: byId<Department>(db, Department),
    modelVersion: byId<ModelVersion>(db, ModelVersion),
    projectsOfDirectory: hasMany<Project>(db, Project, 'directoryId', [{ column: 'name' }, { column: 'id' }]),
    phasesOfProject: hasMany<Phase>(db, Phase, 'projectId', [{ column: 'name' }, { column: 'id' }]),
    elevationsOfPhase: hasMany<Elevation>(db, Elevation, 'phaseId', [{ column: 'name' }, { column: 'id' }], (q) => q.select(Elevation.listColumns)),
    glassOfElevation: hasMany<ElevationGlass>(db, ElevationGlass, 'elevationId'),
    partsOfElevation: hasMany<ElevationPart>(db, ElevationPart, 'elevationId'),
    // Like the departments query and the tree: departments removed upstream are left out.
    childrenOfDepartment: hasMany<Department>(db, Department, 'parentId', [{ column: 'name' }, { column: 'id' }], (q) => q.whereNull('removedAt')),
    stockOfProduct: hasMany<StockLevel>(db, StockLevel, 'productId', [{ column: 'location' }]),
    mappingsOfProduct: hasMany<MarketplaceMapping>(db, MarketplaceMapping, 'productId', [{ column: 'marketplace' }]),
    attemptsOfReceipt: hasMany<ReceiptAttempt>(db, ReceiptAttempt, 'receiptId'),
    eventsOfRun: hasMany<SyncEvent>(db, SyncEvent, 'runId', [{ column: 'seq' }]),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
