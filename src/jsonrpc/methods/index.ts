/**
 * The JSON-RPC method table. Each method parses params (zod), names its scope, calls one
 * service and shapes the answer (snake_case, see shapes.ts). No business rules here.
 */
import { z } from 'zod';
import { NULL_GUID } from '../../db/time';
import { SYNC_STATUSES, type Department, type Elevation, type Phase, type Project } from '../../models';
import * as catalog from '../../services/catalog';
import * as commerce from '../../services/commerce';
import type { ServiceContext } from '../../services/context';
import * as departments from '../../services/departments';
import type { Loaders } from '../../services/loaders';
import type { Page } from '../../services/pagination';
import * as iiko from '../../services/iiko';
import * as logikal from '../../services/logikal';
import * as syncRuns from '../../services/sync-runs';
import { defineMethod, MethodRegistry, type MethodDef, type RpcContextBase } from '../registry';
import {
  dailySalesSchema, departmentNodeSchema, elevationSchema, forecastSchema, pageSchema, productSchema, projectSchema,
  receiptSchema, snake, syncRunSchema,
} from './shapes';

export interface RpcContext extends RpcContextBase {
  services: ServiceContext;
  /** One set per HTTP request, shared by every call of a batch: a batch of projects.get costs one statement per level. */
  loaders: Loaders;
}

const id = z.number().int().positive();
const page = {
  first: z.number().int().min(0).max(500).optional().describe('Page size (default 50, at most 500)'),
  after: z.string().optional().describe('next_cursor of the previous page'),
};
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

function pageOut<T>(p: Page<T>, map: (t: T) => unknown) {
  return { items: p.edges.map((e) => map(e.node)), next_cursor: p.pageInfo.hasNextPage ? p.pageInfo.endCursor : null };
}

function elevationOut(e: Elevation) {
  const { thumbnail: _t, thumbnail_mime: mime, ...rest } = snake(e) as Record<string, unknown>;
  // Lists do not read the image itself; GET /elevations/{id}/thumbnail serves it.
  return { ...rest, has_thumbnail: mime != null };
}

/** project → phases → elevations (→ glass, parts): one statement per level via loaders. */
async function projectTree(l: Loaders, p: Project, withElevations: boolean, withParts: boolean) {
  const [phases, dir] = await Promise.all([l.phasesOfProject.load(p.id), p.directoryId ? l.directory.load(p.directoryId) : null]);
  const elevs: Elevation[][] = withElevations ? await Promise.all(phases.map((ph) => l.elevationsOfPhase.load(ph.id))) : [];
  const all = elevs.flat();
  const [glass, parts] = withParts
    ? await Promise.all([Promise.all(all.map((e) => l.glassOfElevation.load(e.id))), Promise.all(all.map((e) => l.partsOfElevation.load(e.id)))])
    : [[], []];
  const extra = new Map(all.map((e, i) => [e.id, withParts ? { glass: snake(glass[i]), parts: snake(parts[i]) } : {}]));
  return {
    ...projectOut(p, dir?.path ?? null),
    phases: phases.map((ph: Phase, i) => ({
      ...snake(ph),
      is_default: ph.logikalId === NULL_GUID,
      ...(withElevations ? { elevations: elevs[i].map((e) => ({ ...elevationOut(e), ...extra.get(e.id) })) } : {}),
    })),
  };
}

function projectOut(p: Project, directoryPath: string | null) {
  const { directory_id: _d, created_at: _c, ...rest } = snake(p) as Record<string, unknown>;
  return { ...rest, directory_path: directoryPath };
}

export function createMethodRegistry(info: { title: string; version: string }): MethodRegistry<RpcContext> {
  const r = new MethodRegistry<RpcContext>(info);
  // Fixes the context type and infers params per method. Every result goes through its
  // published schema: unknown keys are stripped, so what callers get is exactly what
  // schema/openrpc.json describes (and a shape bug fails loudly instead of leaking).
  const m = <P extends z.ZodObject<any>>(def: MethodDef<RpcContext, P, unknown>) =>
    defineMethod<RpcContext, P, unknown>({ ...def, handler: async (p, ctx) => def.result.parse(await def.handler(p, ctx)) });

  r.add(m({
    name: 'projects.list',
    summary: 'List Logikal projects (without phases), by name',
    scope: 'read',
    params: z.object({
      directory_path: z.string().optional().describe('Exact Logikal directory path'),
      search: z.string().optional().describe('Substring of name, job or offer number'),
      ...page,
    }),
    result: pageSchema(projectSchema.omit({ phases: true })),
    async handler(p, ctx) {
      const res = await catalog.listProjects(ctx.services, { directoryPath: p.directory_path, search: p.search }, p);
      const l = ctx.loaders;
      const dirs = await Promise.all(res.edges.map((e) => (e.node.directoryId ? l.directory.load(e.node.directoryId) : null)));
      const paths = new Map(res.edges.map((e, i) => [e.node.id, dirs[i]?.path ?? null]));
      return pageOut(res, (pr) => projectOut(pr, paths.get(pr.id) ?? null));
    },
  }));

  r.add(m({
    name: 'projects.get',
    summary: 'One project with its phases and elevations',
    description: 'Find the project by id, by GUID, or by name (+ directory_path when names repeat).',
    scope: 'read',
    params: z.object({
      id: id.optional(),
      guid: z.string().optional(),
      name: z.string().optional(),
      directory_path: z.string().optional(),
      with_elevations: z.boolean().default(true),
      with_parts: z.boolean().default(false).describe('Also each elevation’s glass and parts lines'),
    }),
    result: projectSchema,
    async handler(p, ctx) {
      const project = await catalog.getProject(ctx.services, { id: p.id, guid: p.guid, name: p.name, directoryPath: p.directory_path });
      return projectTree(ctx.loaders, project, p.with_elevations, p.with_parts);
    },
  }));

  r.add(m({
    name: 'elevations.list',
    summary: 'List elevations of a project or phase',
    scope: 'read',
    params: z.object({
      project_id: id.optional(),
      phase_id: id.optional(),
      parse_status: z.enum(['pending', 'success', 'failed']).optional(),
      ...page,
    }),
    result: pageSchema(elevationSchema),
    async handler(p, ctx) {
      const res = await catalog.listElevations(ctx.services, { projectId: p.project_id, phaseId: p.phase_id, parseStatus: p.parse_status }, p);
      return pageOut(res, elevationOut);
    },
  }));

  r.add(m({
    name: 'elevations.get',
    summary: 'One elevation with its glass and parts',
    scope: 'read',
    params: z.object({ id: id.optional(), guid: z.string().optional() }),
    result: elevationSchema,
    async handler(p, ctx) {
      const e = await catalog.getElevation(ctx.services, { id: p.id, guid: p.guid });
      const [glass, parts] = await Promise.all([catalog.glassOfElevation(ctx.services, e.id), catalog.partsOfElevation(ctx.services, e.id)]);
      return { ...elevationOut(e), glass: snake(glass), parts: snake(parts) };
    },
  }));

  r.add(m({
    name: 'departments.tree',
    summary: 'The iiko department tree (corporation → legal entities → departments …)',
    scope: 'read',
    params: z.object({
      source_server: z.string().optional().describe('Only this configured iiko server'),
      max_depth: z.number().int().min(0).max(100).optional().describe('0 = roots only'),
      types: z.array(z.string()).optional().describe('Keep nodes of these types (and the ancestors leading to them)'),
      include_removed: z.boolean().default(false).describe('Also departments that disappeared upstream'),
    }),
    result: z.array(departmentNodeSchema),
    async handler(p, ctx) {
      return snake(await departments.departmentTree(ctx.services, { sourceServer: p.source_server, maxDepth: p.max_depth, types: p.types, includeRemoved: p.include_removed }));
    },
  }));

  r.add(m({
    name: 'departments.list',
    summary: 'List departments (flat), by name',
    scope: 'read',
    params: z.object({
      source_server: z.string().optional(),
      type: z.string().optional(),
      parent_id: id.optional(),
      search: z.string().optional(),
      include_removed: z.boolean().default(false).describe('Also departments that disappeared upstream'),
      ...page,
    }),
    result: pageSchema(z.record(z.string(), z.unknown())),
    async handler(p, ctx) {
      const res = await departments.listDepartments(ctx.services, { sourceServer: p.source_server, type: p.type, parentId: p.parent_id, search: p.search, includeRemoved: p.include_removed }, p);
      return pageOut(res, (d: Department) => snake(d));
    },
  }));

  r.add(m({
    name: 'sales.daily',
    summary: 'Daily sales totals per department (and per product) in a date range',
    scope: 'read',
    params: z.object({
      from: day,
      to: day,
      department_ids: z.array(id).optional(),
      product_code: z.string().optional(),
      by_product: z.boolean().default(false),
    }),
    result: z.array(dailySalesSchema),
    async handler(p, ctx) {
      return snake(await departments.dailySales(ctx.services, {
        from: p.from, to: p.to, departmentIds: p.department_ids, productCode: p.product_code, byProduct: p.by_product,
      }));
    },
  }));

  r.add(m({
    name: 'products.list',
    summary: 'List products with stock and marketplace ids, by SKU',
    scope: 'read',
    params: z.object({ search: z.string().optional(), sku: z.string().optional(), ean: z.string().optional(), ...page }),
    result: pageSchema(productSchema),
    async handler(p, ctx) {
      const res = await commerce.listProducts(ctx.services, { search: p.search, sku: p.sku, ean: p.ean }, p);
      const l = ctx.loaders;
      const nodes = res.edges.map((e) => e.node);
      const [stock, maps] = await Promise.all([
        Promise.all(nodes.map((n) => l.stockOfProduct.load(n.id))),
        Promise.all(nodes.map((n) => l.mappingsOfProduct.load(n.id))),
      ]);
      const extra = new Map(nodes.map((n, i) => [n.id, { stock: stock[i], maps: maps[i] }]));
      return pageOut(res, (pr) => {
        const { created_at: _c, ...rest } = snake(pr);
        const x = extra.get(pr.id)!;
        return {
          ...rest,
          stock: x.stock.map((s) => ({ location: s.location, quantity: s.quantity, updated_at: s.updatedAt })),
          marketplaces: x.maps.map((mm) => {
            const { id: _i, product_id: _p, created_at: _cc, updated_at: _u, ...mrest } = snake(mm);
            return mrest;
          }),
        };
      });
    },
  }));

  r.add(m({
    name: 'receipts.get',
    summary: 'A fiscal receipt with its status, fiscal data and print attempts',
    scope: 'receipts',
    params: z.object({ id: id.optional(), client_uuid: z.string().optional() }),
    result: receiptSchema,
    async handler(p, ctx) {
      const rec = await commerce.getReceipt(ctx.services, { id: p.id, clientUuid: p.client_uuid });
      const attempts = await ctx.loaders.attemptsOfReceipt.load(rec.id);
      const { expected_fiscal_document_number: _e, updated_at: _u, ...rest } = snake(rec);
      return {
        ...rest,
        attempts: attempts.map((a) => {
          const { id: _i, receipt_id: _r, ...arest } = snake(a);
          return arest;
        }),
      };
    },
  }));

  r.add(m({
    name: 'forecasts.list',
    summary: 'Sales forecasts (p10/p50/p90) by day',
    scope: 'read',
    params: z.object({
      department_id: id.optional(),
      product_code: z.string().optional(),
      total_only: z.boolean().optional().describe('Only department totals'),
      from: day.optional(),
      to: day.optional(),
      ...page,
    }),
    result: pageSchema(forecastSchema),
    async handler(p, ctx) {
      const res = await commerce.listForecasts(ctx.services, {
        departmentId: p.department_id, productCode: p.product_code, totalOnly: p.total_only, from: p.from, to: p.to,
      }, p);
      const l = ctx.loaders;
      const versions = await Promise.all(res.edges.map((e) => l.modelVersion.load(e.node.modelVersionId)));
      const byId = new Map(versions.filter((v) => v).map((v) => [v!.id, v!]));
      return pageOut(res, (f) => {
        const v = byId.get(f.modelVersionId);
        const { model_version_id: _m, created_at: _c, ...rest } = snake(f);
        return { ...rest, model_version: v ? { id: v.id, name: v.name, version: v.version, algorithm: v.algorithm } : null };
      });
    },
  }));

  r.add(m({
    name: 'sync.status',
    summary: 'State and counters of a sync run (what an Odoo button polls)',
    scope: 'read',
    params: z.object({ run_id: id }),
    result: syncRunSchema,
    async handler(p, ctx) {
      return snake(await syncRuns.getRun(ctx.services, p.run_id));
    },
  }));

  r.add(m({
    name: 'sync.list',
    summary: 'Sync runs, newest first',
    scope: 'read',
    params: z.object({
      kind: z.string().optional(),
      status: z.enum(SYNC_STATUSES).optional(),
      target: z.string().optional(),
      ...page,
    }),
    result: pageSchema(syncRunSchema),
    async handler(p, ctx) {
      return pageOut(await syncRuns.listRuns(ctx.services, { kind: p.kind, status: p.status, target: p.target }, p), snake);
    },
  }));

  r.add(m({
    name: 'sync.cancel',
    summary: 'Ask a queued or running sync run to stop',
    scope: 'sync',
    params: z.object({ run_id: id }),
    result: syncRunSchema,
    async handler(p, ctx) {
      return snake(await syncRuns.cancelRun(ctx.services, p.run_id));
    },
  }));

  r.add(m({
    name: 'sync.force_project',
    summary: 'Start (or join) the force sync of a Logikal project; returns the run id at once',
    description: 'Poll sync.status with the run id (or subscribe to syncProgress over GraphQL) to follow it.',
    scope: 'sync',
    params: z.object({
      directory: z.string().min(1).describe('Logikal directory path, e.g. "Demo Odoo"'),
      project: z.string().min(1).describe('Project name (unique in the directory) or GUID'),
      full: z.boolean().default(false).describe('Re-download unchanged parts lists too'),
    }),
    result: z.object({
      run_id: z.number(),
      status: syncRunSchema.shape.status,
      joined: z.boolean().describe('true when a sync of this project was already running and this call joined it'),
    }),
    async handler(p, ctx) {
      const { run, joined } = await logikal.forceSyncProject(ctx.services, { directory: p.directory, project: p.project, full: p.full });
      return { run_id: run.id, status: run.status, joined };
    },
  }));

  const startedRun = (what: string) =>
    z.object({
      run_id: z.number(),
      status: syncRunSchema.shape.status,
      joined: z.boolean().describe(`true when ${what} was already running and this call joined it`),
    });

  r.add(m({
    name: 'iiko.sync_departments',
    summary: 'Start (or join) the department sync of the configured iiko servers (or of one); returns the run id at once',
    description:
      'Each server is stored in its own transaction: a failing server keeps its previous rows and the others still sync ' +
      '(the run then ends failed, naming the server). Poll sync.status with the run id to follow it.',
    scope: 'sync',
    params: z.object({
      server: z.string().min(1).optional().describe('A configured iiko server name; all when omitted'),
    }),
    result: startedRun('a department sync of these servers'),
    async handler(p, ctx) {
      const { run, joined } = await iiko.syncDepartments(ctx.services, { server: p.server });
      return { run_id: run.id, status: run.status, joined };
    },
  }));

  r.add(m({
    name: 'iiko.import_sales',
    summary: 'Start (or join) an import of daily iiko sales for [from, to]; returns the run id at once',
    description:
      'One OLAP request per business day, each day stored in one transaction with its checkpoint. Sync departments ' +
      'first: rows of unknown departments are counted and skipped. With resume (the default) a re-run continues after ' +
      'the last completed day; the last IIKO_SALES_REPULL_DAYS days before today are always imported again.',
    scope: 'sync',
    params: z.object({
      from: day.describe('First business day'),
      to: day.describe('Last business day (inclusive); at most 3 years after from'),
      server: z.string().min(1).optional().describe('A configured iiko server name; all when omitted'),
      resume: z.boolean().default(true).describe('Continue after the last completed day; false re-imports the whole range'),
    }),
    result: startedRun('an import of this range'),
    async handler(p, ctx) {
      const { run, joined } = await iiko.importSales(ctx.services, { from: p.from, to: p.to, server: p.server, resume: p.resume });
      return { run_id: run.id, status: run.status, joined };
    },
  }));

  return r;
}
