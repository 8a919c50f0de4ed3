/**
 * Makes the demo data set big enough for a meaningful throughput figure: the demo has one
 * full Logikal project (DOS22309: 2 phases, 17 elevations, 2 glass lines and a parts list
 * each), so it is copied into `copies` more projects with fresh GUIDs and names
 * (DOS22309-B01, DOS22309-B02, …), which sort right after DOS22309 and before the demo's
 * small archived DOS22410. `projects(first: copies + 1)` then returns only full-size trees.
 *
 * Plain knex through the companion's own `db` (camelCase identifiers, the snake-case mappers
 * do the rest); timestamps are written as ISO-8601 strings, as the seed does.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { NULL_GUID } from '../src/db/time';
import { DEMO_PROJECT_NAME } from '../seeds';

type Row = Record<string, unknown>;

/** Rows per INSERT: far below PostgreSQL's 65535 bind parameters for every table here. */
const CHUNK = 500;

export interface ReplicaSummary {
  projects: number;
  phases: number;
  elevations: number;
  glass: number;
  parts: number;
}

export const copyName = (i: number): string => `${DEMO_PROJECT_NAME}-B${String(i).padStart(2, '0')}`;

/** Row as read back → row to insert: no id, Dates as ISO strings, overrides applied. */
function copyRow(row: Row, overrides: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'id') continue;
    out[k] = v instanceof Date ? v.toISOString() : v;
  }
  return { ...out, ...overrides };
}

async function insertChunked(trx: Knex.Transaction, table: string, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await trx(table).insert(rows.slice(i, i + CHUNK));
}

/** Inserts rows and maps `key` (unique among them) → generated id. */
async function insertIds(trx: Knex.Transaction, table: string, rows: Row[], key: string): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (let i = 0; i < rows.length; i += CHUNK) {
    const returned = (await trx(table).insert(rows.slice(i, i + CHUNK)).returning(['id', key])) as Row[];
    for (const r of returned) ids.set(String(r[key]), Number(r['id']));
  }
  if (ids.size !== rows.length) throw new Error(`replicateDemoProject: ${table}: expected ${rows.length} ids, got ${ids.size}`);
  return ids;
}

/** Copies the demo project DOS22309 (phases, elevations, glass, parts) `copies` times. */
export async function replicateDemoProject(db: Knex, copies: number): Promise<ReplicaSummary> {
  return db.transaction(async (trx) => {
    const source = (await trx('projects').where({ name: DEMO_PROJECT_NAME }).first()) as Row | undefined;
    if (!source) throw new Error(`replicateDemoProject: project ${DEMO_PROJECT_NAME} not found; seed the demo first`);
    const phases = (await trx('phases').where({ projectId: source['id'] }).orderBy('id')) as Row[];
    const elevations = (await trx('elevations').whereIn('phaseId', phases.map((p) => p['id'] as number)).orderBy('id')) as Row[];
    const elevationIds = elevations.map((e) => e['id'] as number);
    const glass = (await trx('elevation_glass').whereIn('elevationId', elevationIds).orderBy('id')) as Row[];
    const parts = (await trx('elevation_parts').whereIn('elevationId', elevationIds).orderBy('id')) as Row[];

    const summary: ReplicaSummary = { projects: 0, phases: 0, elevations: 0, glass: 0, parts: 0 };
    for (let i = 1; i <= copies; i++) {
      const [inserted] = (await trx('projects')
        .insert(copyRow(source, { guid: randomUUID(), name: copyName(i) }))
        .returning('id')) as Array<{ id: number }>;
      const projectId = Number(inserted!.id);

      // Phases: Logikal's default phase keeps the null GUID (it marks is_default), others get new ones.
      const phaseRows = phases.map((p) =>
        copyRow(p, { projectId, logikalId: p['logikalId'] === NULL_GUID ? NULL_GUID : randomUUID() }),
      );
      const newPhase = await insertIds(trx, 'phases', phaseRows, 'logikalId');
      const phaseMap = new Map(phases.map((p, j) => [p['id'] as number, newPhase.get(String(phaseRows[j]!['logikalId']))!]));

      const elevationRows = elevations.map((e) =>
        copyRow(e, { guid: randomUUID(), versionId: randomUUID(), phaseId: phaseMap.get(e['phaseId'] as number) }),
      );
      const newElevation = await insertIds(trx, 'elevations', elevationRows, 'guid');
      const elevationMap = new Map(
        elevations.map((e, j) => [e['id'] as number, newElevation.get(String(elevationRows[j]!['guid']))!]),
      );

      const remap = (r: Row) => copyRow(r, { elevationId: elevationMap.get(r['elevationId'] as number) });
      await insertChunked(trx, 'elevation_glass', glass.map(remap));
      await insertChunked(trx, 'elevation_parts', parts.map(remap));

      summary.projects += 1;
      summary.phases += phaseRows.length;
      summary.elevations += elevationRows.length;
      summary.glass += glass.length;
      summary.parts += parts.length;
    }
    return summary;
  });
}
