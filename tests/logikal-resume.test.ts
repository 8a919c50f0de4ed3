/**
 * A force sync interrupted by a crash: the middleware process is killed with SIGKILL in the
 * middle of a run, restarted, finds the run marked interrupted, and a new force sync finishes
 * the job without re-downloading what was stored and without duplicating a row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDataset, startLogikalSimulator, type LogikalSimulator } from '../src/integrations/logikal/simulator';
import { createKnex } from '../src/db/knex';
import { runCli, startServe } from './helpers/cli';
import { DB_KINDS, makeTestDb, type TestDb } from './helpers/db';
import { rpc } from './helpers/server';

const call = async (url: string, key: string, method: string, params: Record<string, unknown>) => {
  const r = await rpc(url, key, { jsonrpc: '2.0', id: 1, method, params });
  if (r.body.error) throw new Error(JSON.stringify(r.body.error));
  return r.body.result;
};

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(DB_KINDS)('force sync resumed after a crash on %s', (kind) => {
  let sim: LogikalSimulator;
  let tdb: TestDb;
  let env: Record<string, string>;

  beforeAll(async () => {
    // Slow enough that a kill lands mid-run: parts lists take 100 ms, logins 225 ms.
    sim = await startLogikalSimulator({ dataset: demoDataset({ partsListBytes: 128 * 1024 }), latencyScale: 0.05, maxSessions: 8 });
    tdb = makeTestDb(kind);
    env = { ...tdb.env, LOG_LEVEL: 'warn', LOGIKAL_URL: sim.url, LOGIKAL_USERNAME: 'demo', LOGIKAL_PASSWORD: 'demo', LOGIKAL_MAX_SESSIONS: '2' };
  });
  afterAll(async () => {
    await sim?.close();
    await tdb?.drop();
  });

  it('marks the run interrupted and finishes it on the next force sync, with no duplicates', async () => {
    await runCli(['migrate'], env);
    const key = /(oc_[a-z0-9]{10}_[A-Za-z0-9_-]{43})/.exec((await runCli(['apikey', 'create', '--name', 'odoo', '--scopes', 'sync,read'], env)).stdout)![1];

    const first = await startServe([], env);
    const started = await call(first.url, key, 'sync.force_project', { directory: 'Demo Odoo', project: 'DOS22309' });
    const midway = await waitFor(() => call(first.url, key, 'sync.status', { run_id: started.run_id }), (r) => r.counters.parts_lists_synced >= 4);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(midway.status).toBe('running');
    const storedBeforeCrash = midway.counters.parts_lists_synced;
    // The killed process could not log out; the server lets its sessions expire.
    expect(sim.stats().liveSessions).toBeGreaterThan(0);
    sim.expireAllSessions();

    const second = await startServe([], env);
    try {
      const after = await call(second.url, key, 'sync.status', { run_id: started.run_id });
      expect(after.status).toBe('interrupted');
      const downloadsBefore = sim.stats().partsListDownloads;
      const resumed = await call(second.url, key, 'sync.force_project', { directory: 'Demo Odoo', project: 'DOS22309' });
      expect(resumed.run_id).not.toBe(started.run_id);
      const done = await waitFor(() => call(second.url, key, 'sync.status', { run_id: resumed.run_id }), (r) => !['queued', 'running'].includes(r.status));
      expect(done.status).toBe('succeeded');
      // Elevations stored before the crash are skipped (at least those); the rest are downloaded once.
      expect(done.counters.parts_lists_unchanged).toBeGreaterThanOrEqual(storedBeforeCrash);
      expect(done.counters.parts_lists_unchanged + done.counters.parts_lists_synced).toBe(17);
      expect(sim.stats().partsListDownloads - downloadsBefore).toBe(done.counters.parts_lists_synced);
      expect(sim.stats().liveSessions).toBe(0);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }

    const db = createKnex(tdb.config);
    try {
      const count = async (table: string) => Number((await db(table).count({ n: '*' }).first())!.n);
      expect(await count('projects')).toBe(1);
      expect(await count('phases')).toBe(2);
      expect(await count('elevations')).toBe(17);
      const glassPerElevation = await db('elevationGlass').select('elevationId').count({ n: '*' }).groupBy('elevationId');
      expect(glassPerElevation).toHaveLength(17);
      expect(glassPerElevation.every((g: any) => Number(g.n) === 2)).toBe(true);
      expect(await db('elevations').whereNot({ parseStatus: 'success' }).count({ n: '*' }).first().then((r: any) => Number(r.n))).toBe(0);
    } finally {
      await db.destroy();
    }
  });
});
