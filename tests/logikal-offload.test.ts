/**
 * Parts lists downloaded and parsed on the worker pool (src/integrations/logikal/
 * parts-list-offload.ts). The pool only exists where the compiled worker does, so this test
 * drives the COMPILED client (dist/, built by the global setup) against the simulator: the
 * pool's outcome must be exactly the in-thread one, and its failures must map, retry and
 * report like the in-thread path's.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoDataset, findElevation, startLogikalSimulator, type LogikalSimulator, type SimulatorOptions } from '../src/integrations/logikal/simulator';
import type * as ClientModule from '../src/integrations/logikal/client';
import type * as OffloadModule from '../src/integrations/logikal/parts-list-offload';

const dist = path.join(__dirname, '..', 'dist', 'src', 'integrations', 'logikal');
const load = createRequire(__filename);
const { LogikalClient, processPartsList } = load(path.join(dist, 'client.js')) as typeof ClientModule;
const { partsListPool } = load(path.join(dist, 'parts-list-offload.js')) as typeof OffloadModule;

let sims: LogikalSimulator[] = [];
let clients: ClientModule.LogikalClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
  clients = [];
});

async function setup(opts: SimulatorOptions = {}, offloadPartsLists = true) {
  const sim = await startLogikalSimulator({ latencyScale: 0, dataset: demoDataset({ partsListBytes: 64 * 4096 }), ...opts });
  sims.push(sim);
  const client = new LogikalClient({ baseUrl: sim.url, username: 'demo', password: 'demo', retryBaseMs: 5, timeoutMs: 2_000, offloadPartsLists });
  clients.push(client);
  const project = sim.dataset.directories.find((d) => d.path === 'Demo Odoo')!.projects.find((p) => p.data.name === 'DOS22309')!;
  const at = (phase: number, elevation: number) => ({
    directoryPath: 'Demo Odoo',
    projectId: project.data.id,
    phaseId: project.phases[phase]!.data.id,
    elevationId: project.phases[phase]!.elevations[elevation]!.data.id,
  });
  return { sim, client, project, at };
}

describe('parts lists on the worker pool (compiled client)', () => {
  it('has a pool, and gives exactly the in-thread outcome', async () => {
    expect(partsListPool()).not.toBeNull();
    const { sim, client, project, at } = await setup();
    const name = project.phases[0]!.elevations[2]!.data.name;
    await client.withSession(async (s) => {
      await s.navigate(at(0, 2));
      const pooled = await s.partsListFile({ elevationName: name });
      const raw = await s.partsList(); // the decoded file, in this thread
      expect(pooled.outcome.kind).toBe('parsed');
      expect(pooled.sizeBytes).toBe(raw.length);
      // What the worker made of the body equals what this thread makes of the same bytes.
      const envelope = Buffer.from(JSON.stringify({ data: raw.toString('base64'), hints: [], warnings: [] }));
      expect(pooled).toEqual(processPartsList(envelope, { elevationName: name }));
      // The stored hash of the last good parse: no re-parse.
      expect((await s.partsListFile({ elevationName: name, unlessHash: pooled.sha256 })).outcome).toEqual({ kind: 'same-file' });
    });
    expect(sim.stats().requests.partsList).toBe(3);
    expect(sim.stats().liveSessions).toBe(0);
  });

  it('a file that is not SQLite is a failed outcome, not an error', async () => {
    const { sim, client, project, at } = await setup();
    const e = findElevation(sim.dataset, project.phases[0]!.elevations[1]!.data.id)!;
    e.partsList = Buffer.from('<html>not a database</html>');
    const file = await client.withSession(async (s) => {
      await s.navigate(at(0, 1));
      return s.partsListFile({ elevationName: e.data.name });
    });
    expect(file.outcome).toMatchObject({ kind: 'failed', problem: 'not_sqlite' });
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('retries a truncated body and a 5xx, like the in-thread path', async () => {
    const { sim, client, project, at } = await setup({ faults: { truncateBody: { op: 'partsList', times: 1 }, status5xx: { op: 'partsList', times: 1 } } });
    const file = await client.withSession(async (s) => {
      await s.navigate(at(1, 0));
      return s.partsListFile({ elevationName: project.phases[1]!.elevations[0]!.data.name });
    });
    expect(file.outcome.kind).toBe('parsed');
    expect(sim.stats().requests.partsList).toBe(3);
    expect(sim.stats().faults).toMatchObject({ truncateBody: 1, status5xx: 1 });
    expect(client.stats().retries).toBe(2);
  });

  it('maps a wrong state (405) and a timeout as the in-thread path does', async () => {
    const { sim, client, at } = await setup({}, true);
    await client.withSession(async (s) => {
      const { elevationId: _e, ...phase } = at(0, 0);
      await s.navigate(phase); // phase state: no parts list here
      const wrong = await s.partsListFile({ elevationName: 'P01' }).catch((e: unknown) => e as ClientModule.LogikalError);
      expect(wrong).toMatchObject({ name: 'WrongStateError', status: 405, op: 'partsList' });
    });
    const slow = new LogikalClient({ baseUrl: sim.url, username: 'demo', password: 'demo', retries: 0, partsListTimeoutMs: 200 });
    clients.push(slow);
    sim.setFaults({ timeout: { op: 'partsList', times: 1 } });
    await slow.withSession(async (s) => {
      await s.navigate(at(0, 0));
      const err = await s.partsListFile({ elevationName: 'P01' }).catch((e: unknown) => e as ClientModule.LogikalError);
      expect(err).toMatchObject({ name: 'LogikalError', kind: 'timeout', op: 'partsList' });
    });
  });
});
