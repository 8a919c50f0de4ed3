/**
 * The JSON-RPC method table. Each method parses params (zod), names its scope, calls one
 * service and shapes the answer (snake_case, see shapes.ts). No business rules here.
 */
import { z } from 'zod';
import { NULL_GUID } from '../../db/time';
import { SYNC_STATUSES, type Department, type Elevation, type Phase, type Project, type Receipt } from '../../models';
import { AppError, isAppError, type FieldProblem } from '../../errors';
import * as catalog from '../../services/catalog';
import * as commerce from '../../services/commerce';
import * as kkt from '../../services/kkt';
import * as receipts from '../../services/receipts';
import { RECEIPT_STATUSES } from '../../services/receipts';
import {
  MEASURE_UNITS, PAYMENT_METHODS, PAYMENT_SUBJECTS, PAYMENT_TYPES, RECEIPT_OPERATIONS, TAX_SYSTEMS, VAT_RATES,
  type MeasureUnit, type PaymentMethod, type PaymentSubject, type ReceiptInput,
} from '../../services/receipt-input';
import type { VatRate } from '../../device/register';
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
  cashRegisterSchema, receiptSchema, snake, syncRunSchema,
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

/** Service problems name camelCase fields; JSON-RPC callers sent snake_case ones. */
async function snakeProblems<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const problems = isAppError(e) ? (e.details?.['problems'] as FieldProblem[] | undefined) : undefined;
    if (!problems) throw e;
    const snakeField = (f: string) => f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const mapped = problems.map((p) => ({ field: snakeField(p.field), message: p.message }));
    throw AppError.badInput(`Invalid receipt: ${mapped[0].field} ${mapped[0].message}`, mapped);
  }
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
      // One limit: the deepest nesting an answer can carry (services/departments.ts says why).
      max_depth: z.number().int().min(0).max(departments.MAX_NESTED_TREE_DEPTH).optional().describe(`0 = roots only; at most ${departments.MAX_NESTED_TREE_DEPTH}`),
      types: z.array(z.string()).optional().describe('Keep nodes of these types (and the ancestors leading to them)'),
      include_removed: z.boolean().default(false).describe('Also departments that disappeared upstream'),
    }),
    result: z.array(departmentNodeSchema),
    async handler(p, ctx) {
      const forest = await departments.departmentTree(ctx.services, { sourceServer: p.source_server, maxDepth: p.max_depth, types: p.types, includeRemoved: p.include_removed });
      const height = departments.treeHeight(forest);
      if (height > departments.MAX_NESTED_TREE_DEPTH) {
        // Cannot be serialised nested; say how to get it instead of failing deep in JSON.stringify.
        throw AppError.badInput(
          `The department tree is ${height} levels deep; departments.tree nests at most ${departments.MAX_NESTED_TREE_DEPTH}: pass max_depth (at most ${departments.MAX_NESTED_TREE_DEPTH}), or read it flat with departments.list (parent_id) or GraphQL departmentTree`,
          [{ field: 'max_depth', message: `required for trees deeper than ${departments.MAX_NESTED_TREE_DEPTH} levels` }],
        );
      }
      return snake(forest);
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

  const receiptKey = {
    id: id.optional(),
    client_uuid: z.string().optional().describe('The idempotency key given at creation'),
  };
  const receiptOut = (rec: Receipt) => {
    const { expected_fiscal_document_number: _e, print_payload: _p, next_attempt_at: _n, ...rest } = snake(rec) as Record<string, unknown>;
    return rest;
  };

  r.add(m({
    name: 'receipts.create',
    summary: 'Queue a receipt for fiscalisation (idempotent on client_uuid)',
    description:
      'Validated, then stored durably before the answer; the register prints queued receipts in order, exactly once. ' +
      'A second call with the same client_uuid returns the first receipt with duplicate = true. Follow it with receipts.get.',
    scope: 'receipts',
    params: z.object({
      client_uuid: z.string().describe('UUID chosen by the caller (e.g. the POS order line uuid)'),
      operation: z.enum(RECEIPT_OPERATIONS).default('sale'),
      tax_system: z.enum(TAX_SYSTEMS),
      items: z.array(z.object({
        name: z.string().describe('At most 128 bytes in CP1251'),
        price_minor: z.number().int().describe('Unit price in kopecks'),
        quantity: z.number().describe('Up to 6 decimals'),
        vat: z.enum(VAT_RATES as [string, ...string[]]),
        payment_method: z.enum(Object.keys(PAYMENT_METHODS) as [string, ...string[]]).optional().describe('Tag 1214, default full_payment'),
        payment_subject: z.enum(Object.keys(PAYMENT_SUBJECTS) as [string, ...string[]]).optional().describe('Tag 1212, default commodity'),
        unit: z.enum(Object.keys(MEASURE_UNITS) as [string, ...string[]]).optional().describe('Tag 2108 (FFD 1.2)'),
        department: z.number().int().min(0).max(16).optional(),
      }).strict()).min(1),
      payments: z.array(z.object({ type: z.enum(PAYMENT_TYPES), amount_minor: z.number().int() }).strict()).min(1),
      customer_contact: z.string().optional().describe('E-mail or phone for the electronic receipt (tag 1008)'),
      cashier_name: z.string().optional().describe('Tag 1021'),
      total_minor: z.number().int().optional().describe('If given, must equal the sum of the items'),
    }),
    result: z.object({ receipt: receiptSchema, duplicate: z.boolean() }),
    async handler(p, ctx) {
      const input: ReceiptInput = {
        clientUuid: p.client_uuid,
        operation: p.operation,
        taxSystem: p.tax_system,
        items: p.items.map((it) => ({
          name: it.name, priceMinor: it.price_minor, quantity: it.quantity, vat: it.vat as VatRate,
          paymentMethod: it.payment_method as PaymentMethod | undefined, paymentSubject: it.payment_subject as PaymentSubject | undefined,
          unit: it.unit as MeasureUnit | undefined, department: it.department,
        })),
        payments: p.payments.map((x) => ({ type: x.type, amountMinor: x.amount_minor })),
        customerContact: p.customer_contact, cashierName: p.cashier_name, totalMinor: p.total_minor,
      };
      const res = await snakeProblems(() => receipts.createReceipt(ctx.services, input));
      return { receipt: receiptOut(res.receipt), duplicate: res.duplicate };
    },
  }));

  r.add(m({
    name: 'receipts.get',
    summary: 'A fiscal receipt with its status, fiscal data and print attempts',
    scope: 'receipts',
    params: z.object(receiptKey),
    result: receiptSchema,
    async handler(p, ctx) {
      const rec = await receipts.getReceipt(ctx.services, { id: p.id, clientUuid: p.client_uuid });
      const attempts = await ctx.loaders.attemptsOfReceipt.load(rec.id);
      return {
        ...receiptOut(rec),
        attempts: attempts.map((a) => {
          const { id: _i, receipt_id: _r, ...arest } = snake(a);
          return arest;
        }),
      };
    },
  }));

  r.add(m({
    name: 'receipts.list',
    summary: 'Receipts, newest first, optionally by status (e.g. dead letters), shift and time accepted',
    scope: 'receipts',
    params: z.object({
      status: z.enum(RECEIPT_STATUSES).optional(),
      shift_number: z.number().int().min(0).optional().describe("The register's shift the receipt was printed in"),
      created_from: z.string().optional().describe('ISO-8601 date-time: accepted at or after'),
      created_before: z.string().optional().describe('ISO-8601 date-time: accepted before'),
      ...page,
    }),
    result: pageSchema(receiptSchema),
    async handler(p, ctx) {
      const filter = { status: p.status, shiftNumber: p.shift_number, createdFrom: p.created_from, createdBefore: p.created_before };
      return pageOut(await snakeProblems(() => receipts.listReceipts(ctx.services, filter, p)), receiptOut);
    },
  }));

  r.add(m({
    name: 'receipts.retry',
    summary: 'Put a dead receipt back in the queue (after fixing the cause)',
    scope: 'receipts',
    params: z.object(receiptKey),
    result: receiptSchema,
    async handler(p, ctx) {
      return receiptOut(await receipts.retryReceipt(ctx.services, { id: p.id, clientUuid: p.client_uuid }));
    },
  }));

  r.add(m({
    name: 'receipts.cancel',
    summary: 'Withdraw a queued or dead receipt; it will never be printed',
    description: 'A fiscalised receipt cannot be cancelled: issue a return receipt (operation sale_return).',
    scope: 'receipts',
    params: z.object(receiptKey),
    result: receiptSchema,
    async handler(p, ctx) {
      return receiptOut(await receipts.cancelReceipt(ctx.services, { id: p.id, clientUuid: p.client_uuid }));
    },
  }));

  r.add(m({
    name: 'kkt.status',
    summary: 'State of the fiscal register (link, shift, FN) and counts of the receipt queue',
    scope: 'receipts',
    params: z.object({}),
    result: cashRegisterSchema,
    async handler(_p, ctx) {
      return snake(await kkt.registerStatus(ctx.services));
    },
  }));

  r.add(m({
    name: 'kkt.close_shift',
    summary: 'Close the shift (Z report) between receipts',
    description: 'The worker also closes it by itself before 24 hours (KKT_SHIFT_CLOSE_AFTER_H). UNAVAILABLE while the register is offline.',
    scope: 'receipts',
    params: z.object({}),
    result: z.object({ shift_number: z.number(), fiscal_document_number: z.number() }),
    async handler(_p, ctx) {
      return snake(await kkt.closeShift(ctx.services));
    },
  }));

  r.add(m({
    name: 'kkt.x_report',
    summary: 'Print an X report (shift totals, changes nothing)',
    scope: 'receipts',
    params: z.object({}),
    result: z.object({ ok: z.literal(true) }),
    async handler(_p, ctx) {
      return kkt.xReport(ctx.services);
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
