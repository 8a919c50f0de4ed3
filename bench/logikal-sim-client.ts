/**
 * A typed proxy for the Logikal simulator running in a child process
 * (bench/logikal-sim-process.ts), with the subset of LogikalSimulator that the Logikal
 * benchmark uses — async, since every call is an IPC round trip:
 *
 *   const sim = await startSimulatorProcess({ latencyScale: 0.01, maxSessions: 4, credentials }, { onCrash });
 *   await sim.setOptions({ maxSessions: 100 });
 *   const s = await sim.stats();   // simulator counters + the child's cpuUsage / ELU
 *   await sim.close();
 *
 * The child dies with this process: it is killed from an 'exit' hook (normal exit, process.exit
 * from a signal handler or an error path) and exits by itself when its IPC channel closes (this
 * process killed outright). If the child exits on its own (crash, OOM, kill), every pending and
 * later call rejects with a SimulatorProcessError and `onCrash` is called once, so that the
 * benchmark can stop with a clear message instead of failing on connection errors.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FaultPlan, MutableSimulatorOptions } from '../src/integrations/logikal/simulator';
import type {
  SimChildMessage,
  SimOp,
  SimOps,
  SimProcessOptions,
  SimProcessStats,
  SimRequest,
  WarmRequest,
  WarmResult,
} from './logikal-sim-protocol';

export type { SimProcessOptions, SimProcessStats, WarmRequest, WarmResult } from './logikal-sim-protocol';

export class SimulatorProcessError extends Error {
  override name = 'SimulatorProcessError';
}

export interface SimulatorProcessHooks {
  /** The child exited (or failed) without being asked to: called once, after pending calls were rejected. */
  onCrash?: (err: SimulatorProcessError) => void;
  /** How long start may take, warm-up included (default 120 s). */
  startTimeoutMs?: number;
}

export interface SimulatorProcess {
  /** e.g. http://127.0.0.1:PORT/api/v3 */
  readonly url: string;
  readonly pid: number;
  /** The warm-up done at start (null when none was asked for). */
  readonly warm: WarmResult | null;
  stats(): Promise<SimProcessStats>;
  editElevation(guid: string, change?: { name?: string; amount?: number }): Promise<void>;
  expireAllSessions(): Promise<void>;
  setOptions(o: Partial<MutableSimulatorOptions>): Promise<void>;
  setFaults(f: FaultPlan | undefined): Promise<void>;
  /** sim.dataset = a pristine demoDataset() in the child (its file and thumbnail caches stay). */
  resetDataset(): Promise<void>;
  /** Downloads these elevations' thumbnails and parts lists once, inside the child. */
  warmUp(req: WarmRequest): Promise<WarmResult>;
  /** Closes the simulator and waits for the child to exit (SIGKILL after 5 s). Idempotent. */
  close(): Promise<void>;
}

/** The compiled child next to this file (dist/bench/logikal-sim-process.js; .ts under a TS runner). */
const CHILD_SCRIPT = path.join(__dirname, `logikal-sim-process${path.extname(__filename) || '.js'}`);

const describeExit = (code: number | null, signal: NodeJS.Signals | null) => (signal ? `signal ${signal}` : `code ${code}`);

export async function startSimulatorProcess(options: SimProcessOptions, hooks: SimulatorProcessHooks = {}): Promise<SimulatorProcess> {
  const child: ChildProcess = fork(CHILD_SCRIPT, [JSON.stringify(options)], {
    // stdout/stderr shared with the benchmark (a crash's stack trace shows up there); stdin not needed.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  const pid = child.pid ?? -1;

  // Backstop: whatever way this process ends through process.exit, the child goes with it.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let started = false;
  let closing = false;
  let exited = false;
  let crash: SimulatorProcessError | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; op: SimOp }>();
  let exitWaiters: Array<() => void> = [];

  const fail = (err: SimulatorProcessError) => {
    if (crash) return;
    crash = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    if (started && !closing) hooks.onCrash?.(err);
  };

  child.on('exit', (code, signal) => {
    exited = true;
    process.off('exit', killOnExit);
    for (const w of exitWaiters) w();
    exitWaiters = [];
    fail(
      new SimulatorProcessError(
        closing
          ? `the Logikal simulator process (pid ${pid}) was closed`
          : `the Logikal simulator process (pid ${pid}) exited unexpectedly (${describeExit(code, signal)})`,
      ),
    );
  });
  child.on('error', (e) => {
    // Spawn failure, or a message that could not be sent: the child is unusable either way.
    if (!closing) fail(new SimulatorProcessError(`the Logikal simulator process (pid ${pid}) failed: ${e.message}`));
    killOnExit();
  });

  // Wait for 'ready' (or for the start to fail).
  const ready = await new Promise<Extract<SimChildMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => {
      killOnExit();
      reject(new SimulatorProcessError(`the Logikal simulator process (pid ${pid}) was not ready within ${(hooks.startTimeoutMs ?? 120_000) / 1000} s`));
    }, hooks.startTimeoutMs ?? 120_000);
    const onMessage = (msg: SimChildMessage) => {
      if ('type' in msg && msg.type === 'ready') {
        done();
        resolve(msg);
      } else if ('type' in msg && msg.type === 'start-failed') {
        done();
        reject(new SimulatorProcessError(`the Logikal simulator process failed to start: ${msg.error.stack ?? msg.error.message}`));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      done();
      reject(new SimulatorProcessError(`the Logikal simulator process (pid ${pid}) exited before it was ready (${describeExit(code, signal)})`));
    };
    const onError = (e: Error) => {
      done();
      reject(new SimulatorProcessError(`could not start the Logikal simulator process (${CHILD_SCRIPT}): ${e.message}`));
    };
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  started = true;
  child.on('message', (msg: SimChildMessage) => {
    if ('type' in msg) return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else {
      const err = new Error(`simulator ${p.op}: ${msg.error.message}`);
      if (msg.error.stack) err.stack = `${err.message}\n  (in the simulator process) ${msg.error.stack}`;
      p.reject(err);
    }
  });

  function call<K extends SimOp>(op: K, ...args: SimOps[K]['args']): Promise<SimOps[K]['result']> {
    if (crash) return Promise.reject(crash);
    if (exited || !child.connected) return Promise.reject(new SimulatorProcessError(`the Logikal simulator process (pid ${pid}) is gone (${op})`));
    const id = nextId++;
    const req: SimRequest<K> = { id, op, args };
    return new Promise<SimOps[K]['result']>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, op });
      child.send(req, (e) => {
        if (!e) return;
        pending.delete(id);
        reject(new SimulatorProcessError(`could not send ${op} to the Logikal simulator process: ${e.message}`));
      });
    });
  }

  const waitExit = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (exited) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });

  let closed: Promise<void> | null = null;
  return {
    url: ready.url,
    pid,
    warm: ready.warm,
    stats: () => call('stats'),
    editElevation: (guid, change) => call('editElevation', guid, change),
    expireAllSessions: () => call('expireAllSessions'),
    setOptions: (o) => call('setOptions', o),
    setFaults: (f) => call('setFaults', f),
    resetDataset: () => call('resetDataset'),
    warmUp: (req) => call('warm', req),
    close: () =>
      (closed ??= (async () => {
        if (exited) return;
        closing = true;
        await Promise.race([call('close').catch(() => undefined), waitExit(5000)]);
        if (!(await waitExit(5000))) {
          child.kill('SIGKILL');
          await waitExit(5000);
        }
      })()),
  };
}
