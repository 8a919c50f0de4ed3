/**
 * Read use-cases over the Logikal side of the model: directories, projects, phases,
 * elevations with their glass and parts. Writes come from the Logikal sync (issue 3).
 */
import { normalizeGuid } from '../db/time';
import { AppError } from '../errors';
import { Directory, Elevation, ElevationGlass, ElevationPart, Phase, Project } from '../models';
import type { ServiceContext } from './context';
import { paginate, type Page, type PageArgs } from './pagination';
import { containsPattern } from './sql';

export interface ProjectFilter {
  /** Logikal directory path, exact. */
  directoryPath?: string | null;
  /** Case-insensitive substring of name, job number or offer number. */
  search?: string | null;
  guid?: string | null;
  name?: string | null;
}

/** Only NOT NULL columns: keyset cursors need a total order. */
export type ProjectOrderField = 'name' | 'createdAt' | 'updatedAt' | 'id';
export interface Order<F extends string> {
  field: F;
  direction: 'asc' | 'desc';
}


export async function listProjects(
  ctx: ServiceContext,
  filter: ProjectFilter = {},
  page: PageArgs = {},
  order: Order<ProjectOrderField> = { field: 'name', direction: 'asc' },
): Promise<Page<Project>> {
  const q = ctx.db('projects');
  if (filter.directoryPath) {
    q.whereIn('projects.directoryId', ctx.db('directories').select('id').where('path', filter.directoryPath));
  }
  if (filter.guid) q.where('projects.guid', normalizeGuid(filter.guid));
  if (filter.name) q.where('projects.name', filter.name);
  if (filter.search) {
    const pattern = containsPattern(filter.search);
    q.where((w) =>
      w
        .whereRaw("lower(projects.name) like ? escape '\\'", [pattern])
        .orWhereRaw("lower(coalesce(projects.job_number, '')) like ? escape '\\'", [pattern])
        .orWhereRaw("lower(coalesce(projects.offer_number, '')) like ? escape '\\'", [pattern]),
    );
  }
  return paginate(q, 'projects', page, { column: order.field, direction: order.direction }, (r) =>
    Project.fromDatabaseJson(r),
  );
}

/** One project by numeric id, GUID, or name (+ optional directory path). */
export async function getProject(
  ctx: ServiceContext,
  key: { id?: number | null; guid?: string | null; name?: string | null; directoryPath?: string | null },
): Promise<Project> {
  if (key.id != null || key.guid) {
    const p = key.id != null ? await Project.query(ctx.db).findById(key.id) : await Project.query(ctx.db).findOne({ guid: normalizeGuid(key.guid!) });
    if (!p) throw AppError.notFound('Project', key.id ?? key.guid!);
    return p;
  }
  if (!key.name) {
    throw AppError.badInput('Give a project id, guid or name', [{ field: 'id', message: 'one of id, guid, name is required' }]);
  }
  const q = Project.query(ctx.db).where('name', key.name);
  if (key.directoryPath) q.whereIn('directoryId', Directory.query(ctx.db).select('id').where('path', key.directoryPath));
  const found = await q;
  if (found.length > 1) {
    throw AppError.badInput(`Several projects are named ${JSON.stringify(key.name)}; give the directory path`, [
      { field: 'directoryPath', message: 'required to disambiguate' },
    ]);
  }
  if (!found[0]) throw AppError.notFound('Project', key.name);
  return found[0];
}

export interface ElevationFilter {
  projectId?: number | null;
  phaseId?: number | null;
  parseStatus?: string | null;
  systemName?: string | null;
}

export async function listElevations(
  ctx: ServiceContext,
  filter: ElevationFilter = {},
  page: PageArgs = {},
  order: Order<'name' | 'id'> = { field: 'name', direction: 'asc' },
): Promise<Page<Elevation>> {
  const q = ctx.db('elevations');
  if (filter.phaseId != null) q.where('elevations.phaseId', filter.phaseId);
  if (filter.projectId != null) {
    q.whereIn('elevations.phaseId', ctx.db('phases').select('id').where('projectId', filter.projectId));
  }
  if (filter.parseStatus) q.where('elevations.parseStatus', filter.parseStatus);
  if (filter.systemName) q.where('elevations.systemName', filter.systemName);
  return paginate(q, 'elevations', page, { column: order.field, direction: order.direction }, (r) => Elevation.fromDatabaseJson(r), Elevation.listColumns);
}

export async function getElevation(ctx: ServiceContext, key: { id?: number | null; guid?: string | null }): Promise<Elevation> {
  if (key.id == null && !key.guid) throw AppError.badInput('Give an elevation id or guid', [{ field: 'id', message: 'id or guid is required' }]);
  const e =
    key.id != null
      ? await Elevation.query(ctx.db).findById(key.id)
      : await Elevation.query(ctx.db).findOne({ guid: normalizeGuid(key.guid!) });
  if (!e) throw AppError.notFound('Elevation', key.id ?? key.guid ?? '');
  return e;
}

/** The elevation's thumbnail (PNG as Logikal drew it), or NOT_FOUND. */
export async function elevationThumbnail(ctx: ServiceContext, id: number): Promise<{ bytes: Buffer; mime: string }> {
  const row = await ctx.db('elevations').where({ id }).first('thumbnail', 'thumbnailMime');
  if (!row?.thumbnail) throw AppError.notFound('Elevation thumbnail', id);
  return { bytes: Buffer.from(row.thumbnail), mime: row.thumbnailMime ?? 'image/png' };
}

export async function listDirectories(ctx: ServiceContext): Promise<Directory[]> {
  return Directory.query(ctx.db).orderBy('path');
}

export async function phasesOfProject(ctx: ServiceContext, projectId: number): Promise<Phase[]> {
  return Phase.query(ctx.db).where({ projectId }).orderBy(['name', 'id']);
}

export async function glassOfElevation(ctx: ServiceContext, elevationId: number): Promise<ElevationGlass[]> {
  return ElevationGlass.query(ctx.db).where({ elevationId }).orderBy('id');
}

export async function partsOfElevation(ctx: ServiceContext, elevationId: number): Promise<ElevationPart[]> {
  return ElevationPart.query(ctx.db).where({ elevationId }).orderBy('id');
}
