/**
 * In-process job runner: long use-cases (force syncs, imports) run here, detached from the
 * request that started them. A job has a key; starting a job whose key is already running
 * joins it instead of starting a second one. On shutdown every job is asked to stop
 * (AbortSignal) and awaited, bounded by a timeout.
 *
 * One process, one runner. A multi-instance deployment would put graphile-worker (PostgreSQL)
 * behind the same interface; nothing outside this file would change.
 */
import { AppError } from '../errors';
import type { Logger } from '../logger';

export interface Job {
  key: string;
  /** Resolves to the job's id (its sync run id) once the run row exists. */
  ready: Promise<number>;
  /** Settles when the job ends. */
  done: Promise<unknown>;
  abort(reason?: string): void;
}

export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  private stopping = false;

  constructor(private readonly logger: Logger) {}

  get(key: string): Job | undefined {
    return this.jobs.get(key);
  }

  get size(): number {
    return this.jobs.size;
  }

  /**
   * Joins the running job with `key`, or starts one: `create` makes its run row (and gives
   * the id), then `fn` runs detached. The key is reserved synchronously, so two concurrent
   * callers can never both start.
   */
  startOrJoin(
    key: string,
    create: () => Promise<number>,
    fn: (id: number, signal: AbortSignal) => Promise<unknown>,
  ): { job: Job; joined: boolean } {
    const running = this.jobs.get(key);
    if (running) return { job: running, joined: true };
    if (this.stopping) throw new AppError('UNAVAILABLE', 'The server is shutting down: no new jobs are accepted');
    const controller = new AbortController();
    const ready = create();
    const done = ready
      .then((id) => fn(id, controller.signal))
      .catch((e: unknown) => {
        this.logger.error({ err: e, job: key }, 'job failed');
        throw e;
      })
      .finally(() => this.jobs.delete(key));
    done.catch(() => undefined); // the job records its own failure; never an unhandled rejection
    const job: Job = { key, ready, done, abort: (reason) => controller.abort(reason) };
    this.jobs.set(key, job);
    return { job, joined: false };
  }

  /** Asks every job to stop and waits for them, at most `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const all = [...this.jobs.values()];
    for (const j of all) j.abort('shutting down');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(all.map((j) => j.done)),
      new Promise((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}
