/**
 * What every long job (Logikal force sync, iiko imports, …) uses to report and to stop:
 * an ordered progress reporter over the run's events, and a stop check that notices a shutdown
 * (the job's AbortSignal) or a cancel (the run's status, from any process).
 */
import type { ServiceContext } from '../services/context';
import { finishRun, isCancelled, reportProgress, startRun } from '../services/sync-runs';

/** The job was cancelled on request or the process is stopping. */
export class Cancelled extends Error {}

export interface ProgressReporter {
  /**
   * Queues one event with a snapshot of `counters`. Events are written in call order even when
   * workers report concurrently; the returned promise may be left unawaited on a hot path.
   * A failed write is raised by the next awaited report and by drain().
   */
  (step: string, extra?: { message?: string; done?: number; total?: number }): Promise<void>;
  /** Waits for every queued event; throws the first write failure. */
  drain(): Promise<void>;
}

export function progressReporter(ctx: ServiceContext, runId: number, counters: object): ProgressReporter {
  let chain: Promise<unknown> = Promise.resolve();
  let failure: unknown = null;
  const check = () => {
    if (failure) throw failure;
  };
  const report = ((step: string, extra: { message?: string; done?: number; total?: number } = {}) => {
    const snapshot = { ...counters } as Record<string, number>;
    chain = chain
      .then(() => reportProgress(ctx, runId, { step, ...extra, counters: snapshot }))
      .catch((e: unknown) => {
        failure ??= e;
      });
    return chain.then(check);
  }) as ProgressReporter;
  report.drain = () => chain.then(check);
  return report;
}

/** Throws Cancelled on shutdown or cancel; reads the run's status at most every 250 ms. */
export function stopChecker(ctx: ServiceContext, runId: number, signal: AbortSignal): () => Promise<void> {
  let lastCheck = 0;
  return async () => {
    if (signal.aborted) throw new Cancelled(String(signal.reason ?? 'aborted'));
    if (Date.now() - lastCheck < 250) return;
    lastCheck = Date.now();
    if (await isCancelled(ctx, runId)) throw new Cancelled('cancelled on request');
  };
}

/**
 * Runs a job's body as its sync run: started, then finished as the outcome says — failed with
 * `failed`, else succeeded (with an optional note) — or cancelled / interrupted / failed when
 * the body throws. The one place a job's final status is decided.
 */
export async function runAsSyncRun(
  ctx: ServiceContext,
  runId: number,
  signal: AbortSignal,
  body: () => Promise<{ failed?: string | null; note?: string | null }>,
): Promise<void> {
  await startRun(ctx, runId);
  try {
    const outcome = await body();
    if (outcome.failed) await finishRun(ctx, runId, 'failed', outcome.failed);
    else await finishRun(ctx, runId, 'succeeded', outcome.note ?? null);
  } catch (e) {
    if (e instanceof Cancelled) await finishRun(ctx, runId, signal.aborted ? 'interrupted' : 'cancelled', e.message);
    else await finishRun(ctx, runId, 'failed', (e as Error).message);
  }
}
