/**
 * How Logikal data lands in our tables. Every write of the force sync goes through here, in
 * small transactions: directories + project + phases in one, then one per elevation (or one for
 * the few elevations finished at the same moment: saveElevations), so a failure mid-run never
 * leaves a half-written elevation.
 *
 * Change detection relies on an invariant: an elevation's versionId/changedDate are written
 * only together with its parts list (or its recorded parse failure). A run interrupted before
 * an elevation's transaction leaves that elevation looking stale, so a resumed run redoes it.
 */
import type { Knex } from 'knex';
import { normalizeGuid, nowIso } from '../../db/time';
import type { ElevationData, PhaseData, ProjectData } from './contract';
import type { ParsedPartsList } from './parts-list';

/** Logikal dates are epoch seconds (values past 1e10 are taken as milliseconds, defensively). */
export function epochToIso(v: number | null | undefined): string | null {
  if (v === null || v === undefined || !Number.isFinite(v) || v <= 0) return null;
  return new Date(v > 1e10 ? v : v * 1000).toISOString();
}

/** Upserts each prefix of `path` ("A/B/C" → A, A/B, A/B/C) with parent links; returns the leaf id. */
export async function upsertDirectoryChain(trx: Knex, path: string): Promise<number> {
  const parts = path.split('/').filter(Boolean);
  let parentId: number | null = null;
  let id = 0;
  const now = nowIso();
  for (let i = 0; i < parts.length; i++) {
    const p = parts.slice(0, i + 1).join('/');
    // One statement per level: the upsert returns the id (RETURNING: SQLite ≥ 3.35, PostgreSQL).
    const [row] = await trx('directories')
      .insert({ path: p, name: parts[i], parentId, level: i, syncedAt: now, createdAt: now, updatedAt: now })
      .onConflict('path')
      .merge({ name: parts[i], parentId, level: i, syncedAt: now, updatedAt: now })
      .returning('id');
    id = Number(row.id);
    parentId = id;
  }
  return id;
}

export async function upsertProject(trx: Knex, directoryId: number, p: ProjectData): Promise<number> {
  const now = nowIso();
  const guid = normalizeGuid(p.id);
  const row = {
    directoryId,
    name: p.name,
    jobNumber: p.jobNumber?.trim() || null,
    offerNumber: p.offerNumber?.trim() || null,
    personInCharge: p.personInCharge?.trim() || null,
    createdDate: epochToIso(p.createdDate),
    changedDate: epochToIso(p.changedDate),
    syncedAt: now,
    updatedAt: now,
  };
  const [out] = await trx('projects').insert({ ...row, guid, createdAt: now }).onConflict('guid').merge(row).returning('id');
  return Number(out.id);
}

/** Upserts the phases (unique per project + Logikal id: the null GUID recurs in every project). */
export async function upsertPhases(trx: Knex, projectId: number, phases: PhaseData[]): Promise<Map<string, number>> {
  const now = nowIso();
  const ids = new Map<string, number>();
  for (const ph of phases) {
    const logikalId = normalizeGuid(ph.id);
    const row = { name: ph.name, description: ph.description || null, syncedAt: now, updatedAt: now };
    const [out] = await trx('phases').insert({ ...row, projectId, logikalId, createdAt: now }).onConflict(['projectId', 'logikalId']).merge(row).returning('id');
    ids.set(logikalId, Number(out.id));
  }
  return ids;
}

/** Phases of the project that Logikal no longer lists: removed with their elevations. */
export async function removeMissingPhases(trx: Knex, projectId: number, keep: string[]): Promise<number> {
  return trx('phases').where({ projectId }).whereNotIn('logikalId', keep).del();
}

export interface StoredElevation {
  id: number;
  guid: string;
  phaseId: number;
  versionId: string | null;
  changedDate: string | null;
  partsFileHash: string | null;
  parseStatus: string;
  thumbnailMime: string | null;
}

export async function storedElevations(db: Knex, projectId: number): Promise<Map<string, StoredElevation>> {
  const rows = (await db('elevations')
    .join('phases', 'phases.id', 'elevations.phaseId')
    .where('phases.projectId', projectId)
    .select('elevations.id', 'elevations.guid', 'elevations.phaseId', 'elevations.versionId', 'elevations.changedDate', 'elevations.partsFileHash', 'elevations.parseStatus', 'elevations.thumbnailMime')) as StoredElevation[];
  return new Map(rows.map((r) => [r.guid, r]));
}

/** Does this elevation need its parts list (again)? */
export function needsPartsList(remote: ElevationData, stored: StoredElevation | undefined): boolean {
  if (!stored || stored.parseStatus !== 'success') return true;
  if ((stored.versionId ?? null) !== (remote.versionId ? normalizeGuid(remote.versionId) : null)) return true;
  const remoteChanged = epochToIso(remote.changedDate);
  const storedChanged = stored.changedDate ? new Date(stored.changedDate).toISOString() : null;
  return remoteChanged !== storedChanged;
}

/** Columns that come from the elevation list (never the change-detection keys). */
function listFields(e: ElevationData) {
  return {
    name: e.name,
    description: e.automaticDescription || null,
    description2: e.userDescription || null,
    width: Number.isFinite(e.width) ? e.width : null,
    height: Number.isFinite(e.height) ? e.height : null,
    amount: Number.isFinite(e.amount) ? Math.round(e.amount) : null,
  };
}

/**
 * Metadata-only refresh of an elevation whose parts list is unchanged (or that is not
 * downloaded in this run). New elevations are not inserted here: they arrive with their parts.
 */
export async function refreshElevationsMetadata(db: Knex, phaseId: number, items: Array<{ e: ElevationData; thumbnail: Buffer | null }>): Promise<void> {
  if (!items.length) return;
  const now = nowIso();
  // One transaction for the phase: a re-sync with nothing changed is a handful of commits.
  await db.transaction(async (trx) => {
    for (const { e, thumbnail } of items) {
      const patch: Record<string, unknown> = { ...listFields(e), phaseId, syncedAt: now, updatedAt: now };
      if (thumbnail) Object.assign(patch, { thumbnail, thumbnailMime: 'image/png' });
      await trx('elevations').where({ guid: normalizeGuid(e.id) }).update(patch);
    }
  });
}

export type PartsOutcome =
  | { kind: 'parsed'; parsed: ParsedPartsList }
  | { kind: 'unchanged-file'; hash: string; sizeBytes: number }
  | { kind: 'failed'; error: string; hash: string | null; sizeBytes: number | null };

/**
 * Writes one elevation with the outcome of its parts list, in one transaction: row upsert,
 * glass and parts replaced wholesale. versionId/changedDate are recorded here only.
 */
export async function saveElevation(db: Knex, phaseId: number, e: ElevationData, thumbnail: Buffer | null, outcome: PartsOutcome): Promise<void> {
  await db.transaction((trx) => writeElevation(trx, phaseId, e, thumbnail, outcome));
}

export interface ElevationWrite {
  phaseId: number;
  e: ElevationData;
  thumbnail: Buffer | null;
  outcome: PartsOutcome;
}

/**
 * Several elevations in ONE transaction (a group commit: the elevations a sync finished at the
 * same moment share one commit, i.e. one fsync on SQLite). Each elevation is still written
 * whole or not at all; a failure rolls back the whole group.
 */
export async function saveElevations(db: Knex, writes: ElevationWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await db.transaction(async (trx) => {
    for (const w of writes) await writeElevation(trx, w.phaseId, w.e, w.thumbnail, w.outcome);
  });
}

/** The statements of saveElevation(), inside the caller's transaction. */
async function writeElevation(trx: Knex, phaseId: number, e: ElevationData, thumbnail: Buffer | null, outcome: PartsOutcome): Promise<void> {
  const guid = normalizeGuid(e.id);
  const now = nowIso();
  const row: Record<string, unknown> = {
    ...listFields(e),
    phaseId,
    versionId: e.versionId ? normalizeGuid(e.versionId) : null,
    changedDate: epochToIso(e.changedDate),
    syncedAt: now,
    updatedAt: now,
  };
  if (thumbnail) Object.assign(row, { thumbnail, thumbnailMime: 'image/png' });
  if (outcome.kind === 'parsed') {
    Object.assign(row, outcome.parsed.elevation, {
      partsFileHash: outcome.parsed.sha256,
      partsFileSize: outcome.parsed.sizeBytes,
      parseStatus: 'success',
      parseError: null,
      parsedAt: now,
    });
  } else if (outcome.kind === 'failed') {
    Object.assign(row, { parseStatus: 'failed', parseError: outcome.error.slice(0, 2000), partsFileHash: outcome.hash, partsFileSize: outcome.sizeBytes });
  }
  const upsert = trx('elevations').insert({ ...row, guid, createdAt: now }).onConflict('guid').merge(row);
  if (outcome.kind !== 'parsed') {
    await upsert; // unchanged file: glass/parts stay; failed: keep last good rows
    return;
  }
  // The upsert returns the row's id: no select after it.
  const [out] = await upsert.returning('id');
  const id = Number(out.id);
  await trx('elevationGlass').where({ elevationId: id }).del();
  await trx('elevationParts').where({ elevationId: id }).del();
  const glass = outcome.parsed.glass.map((g) => ({ elevationId: id, glassId: g.glassId, name: g.name }));
  const parts = outcome.parsed.parts.map((p) => ({ elevationId: id, ...p }));
  // SQLite binds at most 32766 parameters per statement: insert in chunks (real files need one).
  for (let i = 0; i < glass.length; i += 200) await trx('elevationGlass').insert(glass.slice(i, i + 200));
  for (let i = 0; i < parts.length; i += 200) await trx('elevationParts').insert(parts.slice(i, i + 200));
}

/** Elevations of a phase that Logikal no longer lists (deleted upstream). */
export async function removeMissingElevations(db: Knex, phaseId: number, keepGuids: string[]): Promise<number> {
  return db('elevations').where({ phaseId }).whereNotIn('guid', keepGuids).del();
}
