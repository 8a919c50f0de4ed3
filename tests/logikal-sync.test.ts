/**
 * Logikal force sync end to end: the real middleware (GraphQL, JSON-RPC, database) against
 * the Logikal simulator over real HTTP, on SQLite and PostgreSQL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoDataset, findElevation, startLogikalSimulator, type LogikalSimulator } from '../src/integrations/logikal/simulator';
import { NULL_GUID } from '../src/db/time';
import { DB_KINDS } from './helpers/db';
import { gql, rpc, startTestServer, type TestServer } from './helpers/server';
import { follow } from './helpers/progress';

const DIR = 'Demo Odoo';
const PROJECT = 'DOS22309';


async function forceSync(s: TestServer, extra = ''): Promise<{ run: any; events: any[] }> {
  const r = await gql(s.url, s.adminKey, `mutation { forceSyncProject(directory: "${DIR}", project: "${PROJECT}"${extra}) { id status } }`);
  expect(r.body.errors).toBeUndefined();
  const run = r.body.data.forceSyncProject;
  const events = await follow(s, run.id);
  return { run, events };
}

const final = (events: any[]) => events[events.length - 1];

describe.each(DB_KINDS)('Logikal force sync on %s', (db) => {
  let sim: LogikalSimulator;
  let s: TestServer;

  beforeAll(async () => {
    sim = await startLogikalSimulator({ dataset: demoDataset({ partsListBytes: 256 * 1024 }), latencyScale: 0, maxSessions: 4 });
    s = await startTestServer({
      db,
      seed: false,
      env: { LOGIKAL_URL: sim.url, LOGIKAL_USERNAME: 'demo', LOGIKAL_PASSWORD: 'demo', LOGIKAL_MAX_SESSIONS: '4' },
    });
  });
  afterAll(async () => {
    await s?.close();
    await sim?.close();
  });
  afterEach(() => {
    // Whatever a test did, no session may be left open on the Logikal server.
    expect(sim.stats().liveSessions).toBe(0);
    sim.setFaults(undefined);
    sim.setOptions({ maxSessions: 4, allowSiblingElevationSelect: true });
  });

  it('first sync: returns the run at once, streams progress, stores the whole project', async () => {
    const { run, events } = await forceSync(s);
    expect(['QUEUED', 'RUNNING']).toContain(run.status);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1)); // from the start, in order, no gaps
    expect(events.some((e) => e.step === 'parts-list' && e.message === 'P03')).toBe(true);
    const last = final(events);
    expect(last.status).toBe('SUCCEEDED');
    expect(last.counters).toMatchObject({ phases_synced: 2, elevations_synced: 17, parts_lists_synced: 17, parts_lists_failed: 0, parts_lists_unchanged: 0 });
    expect(sim.stats().peakSessions).toBeLessThanOrEqual(4);
    expect(sim.stats().logins).toBe(sim.stats().logouts);

    const p = (await gql(s.url, s.adminKey, `{ project(name: "${PROJECT}", directoryPath: "${DIR}") { guid jobNumber phases { logikalId isDefault elevations { name versionId systemName widthOut widthUnit parseStatus partsFileHash glass { glassId } parts { kind } } } } }`)).body.data.project;
    expect(p.jobNumber).toBe('0000003948');
    // Thumbnails came with the elevation list and are served as PNG to key holders only.
    const elevationId = (await gql(s.url, s.adminKey, '{ elevations(first: 1) { edges { node { id } } } }')).body.data.elevations.edges[0].node.id;
    const png = await fetch(`${s.url}/elevations/${elevationId}/thumbnail`, { headers: { authorization: `Bearer ${s.adminKey}` } });
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    expect((await fetch(`${s.url}/elevations/${elevationId}/thumbnail`)).status).toBe(401);
    expect(p.phases).toHaveLength(2);
    const def = p.phases.find((ph: any) => ph.isDefault);
    expect(def.logikalId).toBe(NULL_GUID);
    expect(def.elevations).toHaveLength(13);
    const all = p.phases.flatMap((ph: any) => ph.elevations);
    expect(all).toHaveLength(17);
    for (const e of all) {
      expect(e.parseStatus).toBe('success');
      expect(e.systemName).toMatch(/Reynaers/);
      expect(e.glass.length).toBeGreaterThan(0);
      expect(e.parts.length).toBeGreaterThan(10);
      expect(e.partsFileHash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('re-sync with nothing changed downloads no parts list', async () => {
    const before = sim.stats().partsListDownloads;
    const { events } = await forceSync(s);
    expect(final(events).counters).toMatchObject({ elevations_synced: 17, parts_lists_synced: 0, parts_lists_unchanged: 17 });
    expect(sim.stats().partsListDownloads).toBe(before);
  });

  it('re-sync after 2 elevations changed downloads exactly those 2', async () => {
    const ds = sim.dataset;
    const p = ds.directories.find((d) => d.path === DIR)!.projects.find((x) => x.data.name === PROJECT)!;
    const [a, b] = [p.phases[0].elevations[1], p.phases[1].elevations[0]];
    sim.editElevation(a.data.id, { amount: 5 });
    sim.editElevation(b.data.id, { name: 'P14-renamed' });
    const before = sim.stats().partsListDownloads;
    const { events } = await forceSync(s);
    const c = final(events).counters;
    expect(c).toMatchObject({ parts_lists_unchanged: 15, elevations_synced: 17 });
    // The amount edit leaves the file byte-identical (not re-parsed); the rename changes it.
    expect(c).toMatchObject({ parts_lists_synced: 1, parts_lists_same_file: 1 });
    expect(sim.stats().partsListDownloads - before).toBe(2);
    const names = (await gql(s.url, s.adminKey, '{ elevations(first: 100, filter: {}) { edges { node { name amount } } } }')).body.data.elevations.edges.map((e: any) => e.node.name);
    expect(names).toContain('P14-renamed');
  });

  it('keeps the null-GUID default phase of two projects apart', async () => {
    const r = await gql(s.url, s.adminKey, `mutation { forceSyncProject(directory: "${DIR}", project: "DOS22410") { id } }`);
    expect(final(await follow(s, r.body.data.forceSyncProject.id)).status).toBe('SUCCEEDED');
    const defaults = await s.companion.db('phases').where({ logikalId: NULL_GUID }).orderBy('projectId');
    expect(defaults).toHaveLength(2);
    expect(new Set(defaults.map((p: any) => p.projectId)).size).toBe(2);
    const counts = await Promise.all(defaults.map(async (p: any) => Number((await s.companion.db('elevations').where({ phaseId: p.id }).count({ n: '*' }).first())!.n)));
    expect(counts.sort((a, b) => a - b)).toEqual([3, 13]); // DOS22410's 3, DOS22309's 13: nothing moved across
  });

  it('streams every step, in order, to a subscriber that comes late', async () => {
    sim.setOptions({ latencyScale: 0.004 });
    try {
      const r = await gql(s.url, s.adminKey, `mutation { forceSyncProject(directory: "${DIR}", project: "${PROJECT}", full: true) { id } }`);
      const id = Number(r.body.data.forceSyncProject.id);
      // Subscribe only once the run is well under way.
      for (let i = 0; i < 400; i++) {
        const st = (await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 1, method: 'sync.status', params: { run_id: id } })).body.result;
        if (st.done >= 5 || st.status !== 'running') break;
        await new Promise((res) => setTimeout(res, 10));
      }
      const events = await follow(s, id);
      expect(events[0]).toMatchObject({ seq: 1, step: 'login' });
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const stored = await s.companion.db('syncEvents').where({ runId: id }).orderBy('seq');
      expect(events.map((e) => e.step)).toEqual(stored.map((e: any) => e.step));
      expect(final(events).status).toBe('SUCCEEDED');
      expect(events.filter((e) => e.step === 'parts-list')).toHaveLength(17);
    } finally {
      sim.setOptions({ latencyScale: 0 });
    }
  });

  it('a second request joins the running sync', async () => {
    sim.setOptions({ latencyScale: 0.002 });
    try {
      const [a, b] = await Promise.all([
        rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 1, method: 'sync.force_project', params: { directory: DIR, project: PROJECT, full: true } }),
        rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 2, method: 'sync.force_project', params: { directory: DIR, project: PROJECT } }),
      ]);
      expect(a.body.result.run_id).toBe(b.body.result.run_id);
      expect([a.body.result.joined, b.body.result.joined].sort()).toEqual([false, true]);
      // What an Odoo button does: poll sync.status until the run ends.
      let status = a.body.result.status;
      for (let i = 0; i < 300 && !['succeeded', 'failed'].includes(status); i++) {
        await new Promise((r) => setTimeout(r, 20));
        status = (await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 3, method: 'sync.status', params: { run_id: a.body.result.run_id } })).body.result.status;
      }
      expect(status).toBe('succeeded');
    } finally {
      sim.setOptions({ latencyScale: 0 });
    }
  });

  it('a bad parts-list file fails its elevation, not the run, and keeps the previous rows', async () => {
    const target = findElevation(sim.dataset, sim.dataset.directories.find((d) => d.path === DIR)!.projects.find((x) => x.data.name === PROJECT)!.phases[0].elevations[2].data.id)!;
    const before = (await gql(s.url, s.adminKey, `{ elevation(guid: "${target.data.id}") { parts { articleCode } } }`)).body.data.elevation.parts.length;
    target.partsList = Buffer.from('<html>not a database</html>');
    sim.editElevation(target.data.id);
    const { events } = await forceSync(s);
    expect(final(events).status).toBe('SUCCEEDED');
    expect(final(events).counters).toMatchObject({ parts_lists_failed: 1 });
    const e = (await gql(s.url, s.adminKey, `{ elevation(guid: "${target.data.id}") { parseStatus parseError parts { articleCode } } }`)).body.data.elevation;
    expect(e.parseStatus).toBe('failed');
    expect(e.parseError).toMatch(/not_sqlite/);
    expect(e.parts).toHaveLength(before);
    delete target.partsList;
    sim.editElevation(target.data.id);
  });

  it('completes with one licence seat, with sibling select refused, and through injected 5xx', async () => {
    sim.setOptions({ maxSessions: 1, allowSiblingElevationSelect: false });
    sim.setFaults({ status5xx: { op: 'partsList', times: 3 } });
    const refusedBefore = sim.stats().loginRefusals;
    const { events } = await forceSync(s, ', full: true');
    expect(final(events).status).toBe('SUCCEEDED');
    const c = final(events).counters;
    expect(c.parts_lists_failed).toBe(0);
    expect(c.parts_lists_synced + c.parts_lists_same_file).toBe(17); // full: every file downloaded again
    // The middleware asked for 4 sessions; the server had 1 seat: refused logins, no failure.
    expect(sim.stats().loginRefusals).toBeGreaterThan(refusedBefore);
  });

  it('can be cancelled mid-run and leaves no session open', async () => {
    sim.setOptions({ latencyScale: 0.005 });
    try {
      const r = await gql(s.url, s.adminKey, `mutation { forceSyncProject(directory: "${DIR}", project: "${PROJECT}", full: true) { id } }`);
      const id = r.body.data.forceSyncProject.id;
      const done = follow(s, id);
      await new Promise((res) => setTimeout(res, 150));
      await gql(s.url, s.adminKey, `mutation { cancelSyncRun(id: ${id}) { status } }`);
      const events = await done;
      expect(final(events).status).toBe('CANCELLED');
      await s.companion.services.jobs.get(`logikal.project:${DIR}/${PROJECT}`)?.done.catch(() => undefined);
    } finally {
      sim.setOptions({ latencyScale: 0 });
    }
  });

  it('refuses bad input and an unknown project with clear errors', async () => {
    const empty = await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 1, method: 'sync.force_project', params: { directory: '', project: PROJECT } });
    expect(empty.body.error.code).toBe(-32602);
    const unknown = await gql(s.url, s.adminKey, `mutation { forceSyncProject(directory: "${DIR}", project: "NOPE") { id } }`);
    const events = await follow(s, unknown.body.data.forceSyncProject.id);
    expect(final(events)).toMatchObject({ status: 'FAILED' });
    const run = (await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 1, method: 'sync.status', params: { run_id: Number(unknown.body.data.forceSyncProject.id) } })).body.result;
    expect(run.error).toMatch(/NOPE.*not found/);
    const readOnly = await s.key(['read']);
    const denied = await gql(s.url, readOnly, `mutation { forceSyncProject(directory: "${DIR}", project: "${PROJECT}") { id } }`);
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('Logikal not configured', () => {
  it('answers UNAVAILABLE', async () => {
    const s = await startTestServer({ db: 'sqlite', seed: false });
    try {
      const r = await gql(s.url, s.adminKey, 'mutation { forceSyncProject(directory: "A", project: "B") { id } }');
      expect(r.body.errors[0].extensions.code).toBe('UNAVAILABLE');
    } finally {
      await s.close();
    }
  });
});
