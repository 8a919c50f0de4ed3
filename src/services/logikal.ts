/**
 * Logikal use-cases. A force sync runs as a job: the call returns the sync run at once and
 * the job reports progress through the run's events (subscriptions, sync.status, CLI bars).
 * Only one force sync per project at a time: a second request joins the running one.
 */
import type { LogikalConfig } from '../config';
import { AppError } from '../errors';
import { forceSyncProject as runForceSync } from '../integrations/logikal/sync';
import { runAsSyncRun } from '../jobs/progress';
import { LogikalClient } from '../integrations/logikal/client';
import type { Logger } from '../logger';
import type { ServiceContext } from './context';
import { createRun, getRun, type SyncRunView } from './sync-runs';

export const FORCE_SYNC_KIND = 'logikal.project';

/** The client for the configured Logikal server; null when LOGIKAL_URL is not set. */
export function createLogikalClient(config: LogikalConfig, logger: Logger): LogikalClient | null {
  if (!config.url || !config.username || !config.password) return null;
  return new LogikalClient({
    baseUrl: config.url,
    username: config.username,
    password: config.password,
    erp: config.erp,
    timeoutMs: config.timeoutMs,
    partsListTimeoutMs: config.partsListTimeoutMs,
    retries: config.retries,
    maxSockets: Math.max(4, config.maxSessions * 2),
    logger: logger.child({ integration: 'logikal' }),
  });
}

export interface ForceSyncInput {
  /** Logikal directory path, e.g. "Demo Odoo" or "Demo Odoo/Sublevel 1". */
  directory: string;
  /** Project name (unique in the directory) or GUID. */
  project: string;
  /** Re-download every parts list, even unchanged ones. */
  full?: boolean | null;
}

const GUID_RE = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;

/** Starts (or joins) the force sync of one project; returns its run at once. */
export async function forceSyncProject(
  ctx: ServiceContext,
  input: ForceSyncInput,
): Promise<{ run: SyncRunView; joined: boolean }> {
  const directory = input.directory?.trim().replace(/^\/+|\/+$/g, '');
  const project = input.project?.trim();
  const problems = [
    ...(directory ? [] : [{ field: 'directory', message: 'required' }]),
    ...(project ? [] : [{ field: 'project', message: 'required' }]),
  ];
  if (problems.length) throw AppError.badInput('A directory path and a project are required', problems);
  const client = ctx.integrations.logikal;
  const config = ctx.config.logikal;
  if (!client) {
    throw new AppError('UNAVAILABLE', 'Logikal is not configured: set LOGIKAL_URL, LOGIKAL_USERNAME and LOGIKAL_PASSWORD');
  }
  const isGuid = GUID_RE.test(project!);
  const target = `${directory}/${project}`;
  const { job, joined } = ctx.jobs.startOrJoin(
    `${FORCE_SYNC_KIND}:${target}`,
    async () => (await createRun(ctx, { kind: FORCE_SYNC_KIND, target })).id,
    (runId, signal) =>
      runAsSyncRun(ctx, runId, signal, async () => {
        const counters = await runForceSync(
          ctx,
          client,
          runId,
          { directoryPath: directory!, projectName: isGuid ? null : project, projectGuid: isGuid ? project : null },
          { maxSessions: config.maxSessions, siblingSelect: config.siblingSelect, thumbnails: config.thumbnails, full: Boolean(input.full) },
          signal,
          ctx.logger.child({ runId, target }),
        );
        // A bad parts list fails its elevation (counted in parts_lists_failed), not the run.
        return { note: counters.parts_lists_failed ? `${counters.parts_lists_failed} parts lists failed` : null };
      }),
  );
  const id = await job.ready;
  return { run: await getRun(ctx, id), joined };
}
