/**
 * The force sync of the system we replace (reference logikal.md §b, §f), re-implemented over
 * OUR LogikalClient and OUR parser and store, so that in bench/logikal.ts only the algorithm
 * differs from our engine (src/integrations/logikal/sync.ts):
 *
 * - strictly sequential: one call at a time, one elevation after the other;
 * - a fresh login for every step: one session for the project lookup, one for the phase sync,
 *   one per phase for its elevation list and thumbnails, then one per elevation;
 * - every session walks down from the root: each directory prefix ("A", "A/B", …), then the
 *   project, the phase and (for parts lists) the elevation;
 * - every parts list is downloaded and parsed, changed or not;
 * - no session is ever logged out (DELETE /auth was never called): 4 + 17 = 21 sessions stay
 *   open on the server for DOS22309 until they expire.
 *
 * It talks to Logikal only over HTTP at `t.url`: in bench/logikal.ts that is the same simulator
 * process (bench/logikal-sim-process.ts, driven through bench/logikal-sim-client.ts) our engine
 * talks to, so both pay the same server and only this process's CPU is counted as theirs.
 *
 * What it does NOT copy, all in the baseline's favour: the old middleware's self-imposed
 * throttle sleeps (auth ≤ 1 request/s, others ≤ 2 requests/s), its new TCP connection per
 * request (we share the keep-alive agent), its 5 SQLite open/close cycles and 6+ commits per
 * parse (we use our in-memory parser and one transaction per elevation).
 */
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { normalizeGuid } from '../src/db/time';
import { LogikalClient, type LogikalSession } from '../src/integrations/logikal/client';
import type { ElevationData, PhaseData } from '../src/integrations/logikal/contract';
import { parsePartsList } from '../src/integrations/logikal/parts-list';
import * as store from '../src/integrations/logikal/store';

export interface BaselineTarget {
  /** Logikal base URL (…/api/v3). */
  url: string;
  username: string;
  password: string;
  directoryPath: string;
  projectName: string;
}

export interface BaselineResult {
  ms: number;
  /** Logins made (none logged out). */
  sessionsOpened: number;
  phases: number;
  elevations: number;
  partsListsParsed: number;
  thumbnails: number;
  /** Wall time by step kind (ms), for the report. */
  split: { metadata: number; perElevation: number; parseAndStore: number };
}

const THUMBNAIL = { width: 300, height: 300, format: 'PNG', view: 'Interior', withDimensions: true, withDescription: false } as const;

/** "A/B/C" → ["A", "A/B", "A/B/C"]: the old middleware selected each level in turn. */
function prefixes(path: string): string[] {
  const segs = path.split('/').filter(Boolean);
  return segs.map((_, i) => segs.slice(0, i + 1).join('/'));
}

/**
 * Runs the old algorithm once against `t`, writing into `db` (a migrated, empty database).
 * The client's keep-alive agent is destroyed at the end; the sessions are left open on purpose.
 */
export async function runBaselineSync(t: BaselineTarget, db: Knex): Promise<BaselineResult> {
  // The old system parsed in-process: no worker pool (it only calls partsList(), which never uses one).
  const client = new LogikalClient({ baseUrl: t.url, username: t.username, password: t.password, offloadPartsLists: false });
  let sessionsOpened = 0;
  /** A fresh login that walks down to the project's directory (never logged out). */
  const freshInDirectory = async (): Promise<LogikalSession> => {
    const s = await client.openSession();
    sessionsOpened++;
    for (const p of prefixes(t.directoryPath)) await s.selectDirectory(p);
    return s;
  };

  const started = performance.now();
  let parseAndStore = 0;
  try {
    // 1. Project lookup: its own session.
    const lookup = await freshInDirectory();
    const project = (await lookup.listProjects()).find((p) => p.name === t.projectName);
    if (!project) throw new Error(`baseline: project ${t.projectName} not found in ${t.directoryPath}`);
    const directoryId = await store.upsertDirectoryChain(db, t.directoryPath);
    const projectId = await store.upsertProject(db, directoryId, project);

    // 2. Phase sync: another session.
    const phaseSession = await freshInDirectory();
    await phaseSession.selectProject(project.id);
    const phases = await phaseSession.listPhases();
    const phaseIds = await store.upsertPhases(db, projectId, phases);

    // 3. Elevation lists and thumbnails: one session per phase.
    const work: Array<{ phase: PhaseData; phaseId: number; elevation: ElevationData; thumbnail: Buffer }> = [];
    let thumbnails = 0;
    for (const phase of phases) {
      const s = await freshInDirectory();
      await s.selectProject(project.id);
      await s.selectPhase(phase.id);
      const elevations = await s.listElevations();
      const phaseId = phaseIds.get(normalizeGuid(phase.id))!;
      for (const e of elevations) {
        const thumbnail = await s.thumbnail(e.id, THUMBNAIL);
        thumbnails++;
        work.push({ phase, phaseId, elevation: e, thumbnail });
      }
    }
    const metadataDone = performance.now();

    // 4. Parts lists: a fresh login per elevation, strictly one after the other.
    for (const w of work) {
      const s = await freshInDirectory();
      await s.selectProject(project.id);
      await s.selectPhase(w.phase.id);
      await s.selectElevation(w.elevation.id);
      const bytes = await s.partsList();
      const t0 = performance.now();
      const parsed = parsePartsList(bytes, { elevationName: w.elevation.name });
      await store.saveElevation(db, w.phaseId, w.elevation, w.thumbnail, { kind: 'parsed', parsed });
      parseAndStore += performance.now() - t0;
    }
    const ms = performance.now() - started;
    return {
      ms,
      sessionsOpened,
      phases: phases.length,
      elevations: work.length,
      partsListsParsed: work.length,
      thumbnails,
      split: { metadata: metadataDone - started, perElevation: ms - (metadataDone - started), parseAndStore },
    };
  } finally {
    client.close(); // sockets only: the old system never called DELETE /auth
  }
}
