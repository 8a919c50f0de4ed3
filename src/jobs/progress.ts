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

/** How often a job reads its run's status to notice a cancel from another request or process (ms). */
const CANCEL_POLL_MS = 250;

/**
 * A job's one way to notice that it must stop: a shutdown (the job's AbortSignal) or a cancel
 * (the run's status, set by any process). Call it between steps; it throws Cancelled.
 */
export interface StopCheck {
  (): Promise<void>;
  /**
   * For requests that may run for minutes (an iiko OLAP report), which must be dropped rather
   * than awaited: a signal that fires on the same shutdown or cancel. Nothing calls the check
   * while such a request is awaited, so from the first watch() the run's status is also read in
   * the background, at the same pace, until dispose().
   */
  watch(): AbortSignal;
  /** Stops the background reads (a no-op without watch()); call it when the job's work ends. */
  dispose(): void;
}

export function stopChecker(ctx: ServiceContext, runId: number, signal: AbortSignal): StopCheck {
  const stopped = new AbortController();
  const onShutdown = () => stopped.abort(String(signal.reason ?? 'aborted'));
  if (signal.aborted) onShutdown();
  else signal.addEventListener('abort', onShutdown, { once: true });
  let lastRead = 0;
  /** Reads the run's status unless it was read in the last CANCEL_POLL_MS; a cancel fires `stopped`. */
  const read = async () => {
    if (stopped.signal.aborted || Date.now() - lastRead < CANCEL_POLL_MS) return;
    lastRead = Date.now();
    if (await isCancelled(ctx, runId)) stopped.abort('cancelled on request');
  };
  const check = (async () => {
    await read();
    if (stopped.signal.aborted) throw new Cancelled(String(stopped.signal.reason));
  }) as StopCheck;
  let timer: NodeJS.Timeout | null = null;
  let reading = false;
  check.watch = () => {
    if (!timer && !stopped.signal.aborted) {
      timer = setInterval(() => {
        if (reading) return; // a slow database: never pile reads up
        reading = true;
        read()
          .catch(() => undefined) // a database hiccup: the next read (or the job's own check) decides
          .finally(() => (reading = false));
      }, CANCEL_POLL_MS);
      timer.unref();
    }
    return stopped.signal;
  };
  check.dispose = () => {
    if (timer) clearInterval(timer);
    timer = null;
    signal.removeEventListener('abort', onShutdown);
  };
  stopped.signal.addEventListener('abort', () => check.dispose(), { once: true });
  return check;
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
