/**
 * What every long job (Logikal force sync, iiko imports, …) uses to report and to stop:
 * an ordered progress reporter over the run's events, and a stop check that notices a shutdown
 * (the job's AbortSignal) or a cancel (the run's status, from any process).
 */
import { nowIso } from '../db/time';
import type { ServiceContext } from '../services/context';
import { finishRun, isCancelled, reportProgressBatch, startRun, type ProgressInput } from '../services/sync-runs';

/** The job was cancelled on request or the process is stopping. */
export class Cancelled extends Error {}

export interface ProgressReporter {
  /**
   * Queues one event with a snapshot of `counters` and writes it (with any events queued by
   * soon() before it) at once. Events are written in call order even when workers report
   * concurrently; the returned promise may be left unawaited on a hot path.
   * A failed write is raised by the next awaited report and by drain().
   */
  (step: string, extra?: { message?: string; done?: number; total?: number }): Promise<void>;
  /**
   * Queues one event like the call above, but lets it wait up to `coalesceMs` (see
   * progressReporter) so that the events of a busy stretch are stored in one transaction.
   * Every event is still stored and published, in call order; only its write may come later.
   */
  soon(step: string, extra?: { message?: string; done?: number; total?: number }): void;
  /** Writes every queued event and waits for them; throws the first write failure. */
  drain(): Promise<void>;
}

/** How long soon() lets an event wait for others to share its write (ms). */
export const PROGRESS_COALESCE_MS = 250;

export function progressReporter(ctx: ServiceContext, runId: number, counters: object, opts: { coalesceMs?: number } = {}): ProgressReporter {
  const coalesceMs = opts.coalesceMs ?? PROGRESS_COALESCE_MS;
  let chain: Promise<unknown> = Promise.resolve();
  let failure: unknown = null;
  let pending: ProgressInput[] = [];
  let timer: NodeJS.Timeout | null = null;
  const check = () => {
    if (failure) throw failure;
  };
  const enqueue = (step: string, extra: { message?: string; done?: number; total?: number }) => {
    // `at` is the step's own time, also when the event is stored later in a batch.
    pending.push({ step, ...extra, counters: { ...counters } as Record<string, number>, at: nowIso() });
  };
  /** Hands every queued event to the write chain, as one batch. */
  const flush = (): Promise<unknown> => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (pending.length === 0) return chain;
    const batch = pending;
    pending = [];
    chain = chain
      .then(() => reportProgressBatch(ctx, runId, batch))
      .catch((e: unknown) => {
        failure ??= e;
      });
    return chain;
  };
  const report = ((step: string, extra: { message?: string; done?: number; total?: number } = {}) => {
    enqueue(step, extra);
    return flush().then(check);
  }) as ProgressReporter;
  report.soon = (step, extra = {}) => {
    enqueue(step, extra);
    if (coalesceMs <= 0) {
      void flush();
      return;
    }
    timer ??= setTimeout(() => void flush(), coalesceMs);
  };
  report.drain = () => flush().then(check);
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
 * A signal that fires on shutdown (the job's signal) or when the run is cancelled (its status,
 * set by any process; read every 250 ms like stopChecker), for requests that may run for
 * minutes and should be dropped at once rather than awaited. `dispose()` stops the polling.
 */
export function cancelSignal(ctx: ServiceContext, runId: number, signal: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onStop = () => controller.abort(signal.reason ?? 'stopping');
  if (signal.aborted) onStop();
  else signal.addEventListener('abort', onStop, { once: true });
  let polling = false;
  const timer = setInterval(() => {
    if (polling || controller.signal.aborted) return;
    polling = true;
    isCancelled(ctx, runId)
      .then((cancelled) => {
        if (cancelled) controller.abort('cancelled on request');
      })
      .catch(() => undefined) // a database hiccup: the next poll or stopChecker decides
      .finally(() => {
        polling = false;
      });
  }, 250);
  timer.unref();
  return {
    signal: controller.signal,
    dispose: () => {
      clearInterval(timer);
      signal.removeEventListener('abort', onStop);
    },
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
