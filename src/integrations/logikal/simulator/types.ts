/** Public option and report types of the Logikal simulator (re-exported by ../simulator). */
import type { SimDataset } from './dataset';

/** Simulated server time per operation, in milliseconds (before `latencyScale`). */
export interface LatencyMs {
  login: number;
  logout: number;
  version: number;
  listDirectories: number;
  selectDirectory: number;
  listProjects: number;
  selectProject: number;
  selectedProject: number;
  listPhases: number;
  selectPhase: number;
  listElevations: number;
  selectElevation: number;
  thumbnail: number;
  partsList: number;
}

export type SimOperation = keyof LatencyMs;

/** Observed production timings (logikal.md §b.3, DigitalOcean → customer Logikal server). */
export const REAL_LATENCY_MS: LatencyMs = Object.freeze({
  login: 4500,
  logout: 100,
  version: 50,
  listDirectories: 150,
  selectDirectory: 100,
  listProjects: 150,
  selectProject: 700,
  selectedProject: 150,
  listPhases: 190,
  selectPhase: 200,
  listElevations: 500,
  selectElevation: 250,
  thumbnail: 50,
  partsList: 2000,
});

/**
 * One kind of injected fault. Which requests it hits:
 * - `op`: only that operation (default 'any');
 * - `times`: at most this many hits, then the fault stops (the first `times` matching requests
 *   when no `rate` is given);
 * - `rate`: each matching request is hit with this probability, drawn from a PRNG seeded by
 *   `FaultPlan.seed`, so a run is reproducible. Neither `times` nor `rate` → every matching request.
 */
export interface FaultSpec {
  op?: SimOperation | 'any';
  rate?: number;
  times?: number;
}

export interface FaultPlan {
  /** Answer 500/502/503 without performing the operation (502 comes as an HTML page, like a proxy's). */
  status5xx?: FaultSpec & { status?: 500 | 502 | 503 };
  /** Never answer: hold the socket until the client gives up (the operation is not performed). */
  timeout?: FaultSpec;
  /**
   * Perform the operation, then send a Content-Length larger than what is written and destroy
   * the socket (the client cannot know whether e.g. a select or a login took effect).
   */
  truncateBody?: FaultSpec;
  /** PRNG seed for `rate` (default 1). */
  seed?: number;
}

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default: demoDataset(). */
  dataset?: SimDataset;
  /** Default demo/demo. */
  credentials?: { username: string; password: string };
  /** Multiplies every latency (default 1 = real timings; tests use 0 or 0.01). */
  latencyScale?: number;
  /** Per-operation override of REAL_LATENCY_MS (before scaling). */
  latencyMs?: Partial<LatencyMs>;
  /** Licence seats: live sessions allowed at once (default 4). A login beyond it is refused. */
  maxSessions?: number;
  /**
   * May an elevation-state session select another elevation of the same phase? Unknown on real
   * servers (the spec says select-elevation "expects a phase"); default true. When false, the
   * answer is 405 "This operation expects the session to be in a phase."
   */
  allowSiblingElevationSelect?: boolean;
  /**
   * May a phase-state (or elevation-state) session select another phase of the same project?
   * Observed to work phase → phase; elevation → phase is unverified and follows the same knob.
   * Default true; when false the answer is 405 "… to be in a project."
   */
  allowPhaseReselect?: boolean;
  /**
   * How `POST /directories/select` resolves an identifier in directory state (real behaviour
   * beyond the cumulative walk is unknown):
   * - 'any' (default): any existing directory path, absolute from the root — so both the
   *   cumulative prefix walk (A, then A/B) and a direct deep select from the root work;
   * - 'stepwise': only one level down from the current directory or one of its ancestors, or an
   *   ancestor itself (climbing back); anything else → 409 "… isn't valid in the current mapping."
   */
  directorySelect?: 'any' | 'stepwise';
  /** Idle expiry of a session (default 30 min); afterwards its token gets 401 and its seat is free. */
  sessionTtlMs?: number;
  faults?: FaultPlan;
}

export type MutableSimulatorOptions = Pick<
  SimulatorOptions,
  'latencyScale' | 'maxSessions' | 'allowSiblingElevationSelect' | 'allowPhaseReselect' | 'sessionTtlMs' | 'directorySelect'
>;

export interface SimulatorStats {
  liveSessions: number;
  peakSessions: number;
  logins: number;
  logouts: number;
  loginRefusals: number;
  /** Requests received per operation ('unknown' for paths outside the contract), faulted ones included. */
  requests: Record<string, number>;
  partsListDownloads: number;
  thumbnailDownloads: number;
  /** Parts-list files actually generated (the rest came from the per-(id, versionId) cache). */
  partsListGenerations: number;
  /** Sessions dropped by idle expiry or expireAllSessions(). */
  expiredSessions: number;
  /** TCP connections accepted (keep-alive reuse shows as connections < requests). */
  connections: number;
  /** Faults injected, by kind. */
  faults: { status5xx: number; timeout: number; truncateBody: number };
}

export interface LogikalSimulator {
  /** e.g. http://127.0.0.1:PORT/api/v3 */
  url: string;
  stats(): SimulatorStats;
  /** Mutable: tests edit it between runs. */
  dataset: SimDataset;
  /** Applies the change, bumps `changedDate` and `versionId` (so the next parts-list download is a new file). */
  editElevation(guid: string, change?: { name?: string; amount?: number }): void;
  /** Replaces the fault plan (hit counters and PRNG restart). */
  setFaults(f: FaultPlan | undefined): void;
  setOptions(o: Partial<MutableSimulatorOptions>): void;
  /** Every live session is dropped (its token gets 401 from now on; its seat is free). */
  expireAllSessions(): void;
  close(): Promise<void>;
}
