/**
 * The Logikal simulator in its own process, for bench/logikal.ts: forked by
 * bench/logikal-sim-client.ts (dist/bench/logikal-sim-process.js), never run by hand.
 *
 * In production Logikal is a separate server; running the simulator here keeps the CPU it
 * spends (generating and serving the 2.3 MB parts-list bodies, rendering thumbnails, writing
 * sockets) off the benchmark's event loop and lets it use another core.
 *
 * It starts startLogikalSimulator() on demoDataset() with the options in argv[2] (JSON of
 * SimProcessOptions), warms up the requested parts lists and thumbnails (by downloading each
 * once from itself, so the files are generated and cached here, unmeasured), sends
 * { type: 'ready', url, … } and then answers { id, op, args } requests with
 * { id, ok, result | error } (protocol: bench/logikal-sim-protocol.ts).
 *
 * Lifetime: it exits when the parent asks ('close'), when the IPC channel goes away (the parent
 * exited or was killed, whatever the way), on SIGTERM, and with code 1 on an uncaught error.
 * SIGINT is ignored: on Ctrl-C the terminal signals the whole process group, and the parent
 * must be able to finish its cleanup (it closes this process itself).
 */
import { performance } from 'node:perf_hooks';
import { LogikalClient } from '../src/integrations/logikal/client';
import { demoDataset, startLogikalSimulator, type LogikalSimulator } from '../src/integrations/logikal/simulator';
import type { SimChildMessage, SimErrorInfo, SimOp, SimOps, SimProcessOptions, SimProcessStats, SimRequest, WarmRequest, WarmResult } from './logikal-sim-protocol';

if (!process.send) {
  console.error('logikal-sim-process: run by bench/logikal.js through child_process.fork (needs an IPC channel)');
  process.exit(2);
}

const send = (msg: SimChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(msg, undefined, {}, () => resolve());
  });

const errorInfo = (e: unknown): SimErrorInfo => (e instanceof Error ? { message: e.message, stack: e.stack } : { message: String(e) });

const options = JSON.parse(process.argv[2] ?? '{}') as SimProcessOptions;
let sim: LogikalSimulator | null = null;

/** Downloads the elevations' thumbnails and parts lists once, in one session (logged out). */
async function warm(req: WarmRequest): Promise<WarmResult> {
  const s0 = sim!;
  const project = s0.dataset.directories
    .find((d) => d.path === req.directoryPath)
    ?.projects.find((p) => p.data.name === req.projectName);
  if (!project) throw new Error(`warm-up: project ${req.projectName} not in "${req.directoryPath}"`);
  const only = req.elevationIds ? new Set(req.elevationIds.map((id) => id.toLowerCase())) : null;
  const client = new LogikalClient({ baseUrl: s0.url, ...options.credentials, offloadPartsLists: false });
  const started = performance.now();
  let files = 0;
  const s = await client.openSession();
  try {
    for (const ph of project.phases) {
      for (const e of ph.elevations) {
        if (only && !only.has(e.data.id.toLowerCase())) continue;
        await s.navigate({ directoryPath: req.directoryPath, projectId: project.data.id, phaseId: ph.data.id, elevationId: e.data.id });
        await s.thumbnail(e.data.id, req.thumbnail);
        await s.partsList();
        files++;
      }
    }
  } finally {
    await s.close();
    client.close();
  }
  if (only && files !== only.size) throw new Error(`warm-up: ${files} of ${only.size} requested elevations found`);
  return { ms: performance.now() - started, files };
}

function stats(): SimProcessStats {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  return { ...sim!.stats(), cpu: { user: cpu.user, system: cpu.system }, elu: { idle: elu.idle, active: elu.active } };
}

let exiting = false;
async function shutdown(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    await sim?.close().catch(() => undefined);
  }
  process.exit(code);
}

const handlers: { [K in SimOp]: (...args: SimOps[K]['args']) => SimOps[K]['result'] | Promise<SimOps[K]['result']> } = {
  stats: () => stats(),
  editElevation: (guid, change) => sim!.editElevation(guid, change ?? undefined),
  expireAllSessions: () => sim!.expireAllSessions(),
  setOptions: (o) => sim!.setOptions(o),
  setFaults: (plan) => sim!.setFaults(plan ?? undefined), // undefined arrives as null over JSON IPC
  resetDataset: () => {
    sim!.dataset = demoDataset({ partsListBytes: options.partsListBytes });
  },
  warm: (req) => warm(req),
  close: async () => {
    exiting = true;
    await sim?.close();
  },
};

async function answer(req: SimRequest): Promise<void> {
  const fn = handlers[req.op] as ((...args: unknown[]) => unknown) | undefined;
  try {
    if (!fn) throw new Error(`unknown operation ${JSON.stringify(req.op)}`);
    if (!sim) throw new Error('the simulator is not started');
    const result = await fn(...(Array.isArray(req.args) ? req.args : []));
    await send({ id: req.id, ok: true, result });
  } catch (e) {
    await send({ id: req.id, ok: false, error: errorInfo(e) });
  }
  if (req.op === 'close') {
    process.disconnect();
    process.exit(0);
  }
}

process.on('message', (msg: SimRequest) => {
  if (msg && typeof msg.id === 'number' && typeof msg.op === 'string') void answer(msg);
});
// The parent is gone (normal exit, crash, SIGKILL): nobody can use or close us any more.
process.on('disconnect', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(143));
process.on('SIGINT', () => undefined);

async function start(): Promise<void> {
  try {
    sim = await startLogikalSimulator({
      dataset: demoDataset({ partsListBytes: options.partsListBytes }),
      latencyScale: options.latencyScale,
      maxSessions: options.maxSessions,
      credentials: options.credentials,
    });
    const warmed = options.warm ? await warm(options.warm) : null;
    await send({ type: 'ready', url: sim.url, pid: process.pid, warm: warmed });
  } catch (e) {
    await send({ type: 'start-failed', error: errorInfo(e) });
    await shutdown(1);
  }
}

void start();
