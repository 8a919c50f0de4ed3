/**
 * The IPC protocol between the Logikal benchmark (bench/logikal.ts, through the proxy in
 * bench/logikal-sim-client.ts) and the simulator running in its own process
 * (bench/logikal-sim-process.ts). Types only: both sides import it with `import type`.
 *
 *   parent → child   argv[2] = JSON of SimProcessOptions (the start options)
 *   child → parent   { type: 'ready', url, pid, warm } once listening and warmed up,
 *                    or { type: 'start-failed', error } (then the child exits 1)
 *   parent → child   { id, op, args }            one request per call
 *   child → parent   { id, ok: true, result } | { id, ok: false, error }
 *
 * Messages use Node's default 'json' IPC serialization: `undefined` in an argument list
 * arrives as null, Buffers and Dates do not survive (nothing here needs them).
 */
import type { ThumbnailOptions } from '../src/integrations/logikal/client';
import type { FaultPlan, MutableSimulatorOptions, SimulatorStats } from '../src/integrations/logikal/simulator';

/** What the child starts the simulator with (its dataset is always demoDataset()). */
export interface SimProcessOptions {
  /** Multiplies REAL_LATENCY_MS (the benchmark's BENCH_LOGIKAL_SCALE). */
  latencyScale: number;
  /** Licence seats at start. */
  maxSessions: number;
  /** demoDataset({ partsListBytes }); undefined = the fixture default (DEFAULT_PARTS_LIST_BYTES). */
  partsListBytes?: number;
  credentials: { username: string; password: string };
  /** Warm up these elevations' parts lists and thumbnails before reporting 'ready'. */
  warm?: WarmRequest;
}

/** Which files the child downloads once (over HTTP, from itself, in one logged-out session). */
export interface WarmRequest {
  directoryPath: string;
  projectName: string;
  /** The thumbnail variant the clients will ask for (rendered once per elevation version). */
  thumbnail: ThumbnailOptions;
  /** Only these elevation ids; omitted = every elevation of the project. */
  elevationIds?: string[];
}

export interface WarmResult {
  ms: number;
  files: number;
}

/** SimulatorStats plus the child's own resource usage (cumulative since it started). */
export interface SimProcessStats extends SimulatorStats {
  /** process.cpuUsage() of the child (µs, user and system). */
  cpu: { user: number; system: number };
  /** performance.eventLoopUtilization() of the child (ms idle/active, cumulative). */
  elu: { idle: number; active: number };
}

/** Every operation: its argument list and its result. */
export interface SimOps {
  stats: { args: []; result: SimProcessStats };
  editElevation: { args: [guid: string, change?: { name?: string; amount?: number }]; result: void };
  expireAllSessions: { args: []; result: void };
  setOptions: { args: [options: Partial<MutableSimulatorOptions>]; result: void };
  setFaults: { args: [plan: FaultPlan | undefined]; result: void };
  /** sim.dataset = a pristine demoDataset() (file and thumbnail caches are kept). */
  resetDataset: { args: []; result: void };
  warm: { args: [request: WarmRequest]; result: WarmResult };
  /** Closes the simulator, answers, then the child exits 0. */
  close: { args: []; result: void };
}

export type SimOp = keyof SimOps;

export interface SimRequest<K extends SimOp = SimOp> {
  id: number;
  op: K;
  args: SimOps[K]['args'];
}

export interface SimErrorInfo {
  message: string;
  stack?: string;
}

export type SimResponse = { id: number; ok: true; result?: unknown } | { id: number; ok: false; error: SimErrorInfo };

export type SimChildMessage =
  | { type: 'ready'; url: string; pid: number; warm: WarmResult | null }
  | { type: 'start-failed'; error: SimErrorInfo }
  | SimResponse;
