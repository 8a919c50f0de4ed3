/**
 * iiko use-cases: sync the department trees of the configured iiko servers, and import their
 * daily sales. Each runs as a job: the call returns the sync run at once and the job reports
 * progress through the run's events (subscriptions, sync.status, CLI bars). One job per key at
 * a time: a second request for the same servers (and range) joins the running one.
 */
import type { IikoConfig } from '../config';
import { AppError, type FieldProblem } from '../errors';
import { IikoClient } from '../integrations/iiko/client';
import {
  DEPARTMENTS_KIND, SALES_KIND, importSales as runImportSales, syncDepartments as runSyncDepartments,
  type JobOutcome,
} from '../integrations/iiko/sync';
import type { Logger } from '../logger';
import type { ServiceContext } from './context';
import { runAsSyncRun } from '../jobs/progress';
import { createRun, getRun, type SyncRunView } from './sync-runs';

export { DEPARTMENTS_KIND, SALES_KIND };

/** One client per configured server (empty when IIKO_SERVERS is not set). */
export function createIikoClients(config: IikoConfig, logger: Logger): IikoClient[] {
  return config.servers.map(
    (s) =>
      new IikoClient(
        {
          name: s.name, baseUrl: s.url, login: s.login, password: s.password,
          timeoutMs: config.timeoutMs, olapTimeoutMs: config.olapTimeoutMs, retries: config.retries,
          authMethod: s.authMethod, excludeDeleted: s.excludeDeleted, tokenReuseMs: s.tokenReuseMs,
        },
        { logger: logger.child({ integration: 'iiko', server: s.name }) },
      ),
  );
}

/** The clients a request names: one server, or every configured one. */
function pickClients(ctx: ServiceContext, server: string | null | undefined): { clients: IikoClient[]; target: string } {
  const all = ctx.integrations.iiko;
  if (!all.length) {
    throw new AppError('UNAVAILABLE', 'iiko is not configured: set IIKO_SERVERS and IIKO_<NAME>_URL, _LOGIN, _PASSWORD for each server');
  }
  const name = server?.trim();
  if (!name) return { clients: all, target: 'all' };
  const client = all.find((c) => c.name === name);
  if (!client) {
    throw AppError.badInput(`Unknown iiko server ${JSON.stringify(name)}; configured: ${all.map((c) => c.name).join(', ')}`, [
      { field: 'server', message: 'not a configured iiko server' },
    ]);
  }
  return { clients: [client], target: client.name };
}

/** A job over several servers succeeds only when every server did; the run's error names each failure. */
function serversOutcome<C>(body: () => Promise<JobOutcome<C>>) {
  return async () => {
    const { failures } = await body();
    return { failed: failures.length ? failures.map((f) => `${f.server}: ${f.error}`).join('; ').slice(0, 4000) : null };
  };
}

/** Starts (or joins) the department sync of one server (or of all); returns its run at once. */
export async function syncDepartments(
  ctx: ServiceContext,
  input: { server?: string | null } = {},
): Promise<{ run: SyncRunView; joined: boolean }> {
  const { clients, target } = pickClients(ctx, input.server);
  const { job, joined } = ctx.jobs.startOrJoin(
    `${DEPARTMENTS_KIND}:${target}`,
    async () => (await createRun(ctx, { kind: DEPARTMENTS_KIND, target, total: clients.length })).id,
    (runId, signal) =>
      runAsSyncRun(ctx, runId, signal, serversOutcome(() => runSyncDepartments(ctx, clients, runId, signal, ctx.logger.child({ runId, job: DEPARTMENTS_KIND, target })))),
  );
  const id = await job.ready;
  return { run: await getRun(ctx, id), joined };
}

export interface ImportSalesInput {
  /** One configured server; null/absent = every configured server. */
  server?: string | null;
  /** First business day, YYYY-MM-DD. */
  from: string;
  /** Last business day, YYYY-MM-DD (inclusive). */
  to: string;
  /** Continue after the last day a previous import of this range completed (default true). */
  resume?: boolean | null;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (v: unknown): v is string =>
  typeof v === 'string' && DAY_RE.test(v) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;
/** Longest range one import takes. */
export const MAX_SALES_RANGE_YEARS = 3;

/**
 * Checks a sales range before any work starts. `names` are what the caller calls the two
 * bounds (the CLI's --sales-from / --sales-to), so the message names what the user typed.
 */
export function validateSalesRange(
  input: { from: unknown; to: unknown },
  names: { from: string; to: string } = { from: 'from', to: 'to' },
): { from: string; to: string } {
  const problems: FieldProblem[] = [];
  for (const f of ['from', 'to'] as const) {
    if (!isDay(input[f])) problems.push({ field: names[f], message: 'expected a date YYYY-MM-DD' });
  }
  if (problems.length) throw AppError.badInput(`${problems.map((p) => `"${p.field}"`).join(' and ')} must be a date YYYY-MM-DD`, problems);
  const from = input.from as string;
  const to = input.to as string;
  if (from > to) throw AppError.badInput(`"${names.from}" is after "${names.to}"`, [{ field: names.from, message: `after ${names.to}` }]);
  const limit = new Date(`${from}T00:00:00Z`);
  limit.setUTCFullYear(limit.getUTCFullYear() + MAX_SALES_RANGE_YEARS);
  if (to >= limit.toISOString().slice(0, 10)) {
    throw AppError.badInput(`The range may span at most ${MAX_SALES_RANGE_YEARS} years; import longer histories in parts`, [
      { field: names.to, message: `more than ${MAX_SALES_RANGE_YEARS} years after ${names.from}` },
    ]);
  }
  return { from, to };
}

/** Starts (or joins) a sales import for [from, to] of one server (or of all); returns its run at once. */
export async function importSales(ctx: ServiceContext, input: ImportSalesInput): Promise<{ run: SyncRunView; joined: boolean }> {
  const range = validateSalesRange(input);
  const { clients, target: servers } = pickClients(ctx, input.server);
  const resume = input.resume ?? true;
  const target = `${servers}:${range.from}..${range.to}`;
  const today = new Date().toISOString().slice(0, 10);
  const { job, joined } = ctx.jobs.startOrJoin(
    `${SALES_KIND}:${target}`,
    async () => (await createRun(ctx, { kind: SALES_KIND, target })).id,
    (runId, signal) =>
      runAsSyncRun(ctx, runId, signal, serversOutcome(() =>
        runImportSales(ctx, clients, runId, range, { resume, repullDays: ctx.config.iiko.salesRepullDays, today }, signal,
          ctx.logger.child({ runId, job: SALES_KIND, target })),
      )),
  );
  const id = await job.ready;
  return { run: await getRun(ctx, id), joined };
}
