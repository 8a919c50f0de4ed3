/**
 * LogikalClient against the simulator over real HTTP (latencyScale 0): sessions and seats,
 * navigation, wrong-state handling, retries, keep-alive, thumbnails and parts lists, secrecy.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger';
import {
  decodeBase64Data,
  LicenceLimitError,
  LogikalAuthError,
  LogikalClient,
  LogikalError,
  WrongStateError,
  isLicenceLimitResponse,
  type LogikalClientOptions,
} from './client';
import { NULL_GUID, WRONG_STATE_TEXT, invalidMappingText } from './contract';
import { demoDataset, pngSize, startLogikalSimulator, type LogikalSimulator, type SimProject, type SimulatorOptions } from './simulator';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

let sims: LogikalSimulator[] = [];
let clients: LogikalClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
  clients = [];
});

async function setup(opts: SimulatorOptions = {}, copts: Partial<LogikalClientOptions> = {}) {
  const sim = await startLogikalSimulator({ latencyScale: 0, dataset: demoDataset({ partsListBytes: 64 * 4096 }), ...opts });
  sims.push(sim);
  const client = new LogikalClient({ baseUrl: sim.url, username: 'demo', password: 'demo', retryBaseMs: 5, timeoutMs: 2_000, ...copts });
  clients.push(client);
  const demo = sim.dataset.directories.find((d) => d.path === 'Demo Odoo')!;
  const project = demo.projects.find((p) => p.data.name === 'DOS22309')!;
  return { sim, client, project, other: demo.projects.find((p) => p.data.name === 'DOS22410')! };
}

function target(p: SimProject, phase = 0, elevation?: number) {
  return {
    directoryPath: 'Demo Odoo',
    projectId: p.data.id,
    phaseId: p.phases[phase]!.data.id,
    elevationId: elevation === undefined ? undefined : p.phases[phase]!.elevations[elevation]!.data.id,
  };
}

async function rejection(p: Promise<unknown>): Promise<LogikalError> {
  try {
    await p;
  } catch (e) {
    return e as LogikalError;
  }
  throw new Error('expected a rejection');
}

describe('LogikalClient: sessions and seats', () => {
  it('version() needs no session', async () => {
    const { client } = await setup();
    const v = await client.version();
    expect(v.componentVersions[0]!.version).toBe('12.2.6.59');
  });

  it('withSession logs out afterwards, also when fn throws', async () => {
    const { sim, client } = await setup();
    const dirs = await client.withSession(async (s) => {
      expect(sim.stats().liveSessions).toBe(1);
      expect(s.state).toBe('directory');
      expect(s.location).toEqual({ directoryPath: '', projectId: null, phaseId: null, elevationId: null });
      return s.listDirectories();
    });
    expect(dirs.map((d) => d.path)).toEqual(['Demo Odoo', 'Archief']);
    expect(sim.stats().liveSessions).toBe(0);

    await expect(
      client.withSession(async (s) => {
        await s.selectDirectory('Demo Odoo');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(sim.stats()).toMatchObject({ liveSessions: 0, logins: 2, logouts: 2 });
    expect(client.stats()).toMatchObject({ sessionsOpened: 2, sessionsClosed: 2, retries: 0 });
  });

  it('close() is idempotent and never throws, also for an expired session', async () => {
    const { sim, client } = await setup();
    const s = await client.openSession();
    sim.expireAllSessions();
    await s.close();
    await s.close();
    expect(s.state).toBe('closed');
    expect(client.stats().sessionsClosed).toBe(1);
    await expect(s.listDirectories()).rejects.toMatchObject({ kind: 'local' });
  });

  it('refuses a login beyond the licence seats with LicenceLimitError; a logout frees the seat', async () => {
    const { sim, client } = await setup({ maxSessions: 2 });
    const a = await client.openSession();
    const b = await client.openSession();
    const err = await rejection(client.openSession());
    expect(err).toBeInstanceOf(LicenceLimitError);
    expect(err).toMatchObject({ status: 409, op: 'login', errors: ['No free licence available: 2 of 2 API sessions in use.'] });
    expect(sim.stats().requests.login).toBe(3); // not retried
    await a.close();
    const c = await client.openSession();
    expect(sim.stats().liveSessions).toBe(2);
    await Promise.all([b.close(), c.close()]);
    expect(sim.stats()).toMatchObject({ liveSessions: 0, peakSessions: 2, loginRefusals: 1 });
  });

  it('the licence matcher only fires for a login', () => {
    expect(isLicenceLimitResponse('login', 409, ['No free licence available: 4 of 4 API sessions in use.'])).toBe(true);
    expect(isLicenceLimitResponse('login', 409, ['locked by another user'])).toBe(false);
    expect(isLicenceLimitResponse('selectProject', 409, ['No free licence available'])).toBe(false);
  });

  it('an expired session answers LogikalAuthError', async () => {
    const { sim, client } = await setup();
    const s = await client.openSession();
    await s.selectDirectory('Demo Odoo');
    sim.expireAllSessions();
    const err = await rejection(s.listProjects());
    expect(err).toBeInstanceOf(LogikalAuthError);
    expect(err.status).toBe(401);
    expect(err.errors).toEqual(['Invalid session authentication identifier.']);
    await s.close();
  });

  it('bad credentials: LogikalAuthError whose message and logs never show the password', async () => {
    let logged = '';
    const logger = createLogger('debug', new Writable({ write: (c, _e, cb) => ((logged += String(c)), cb()) }));
    const { client } = await setup({}, { password: 'S3cr3t-Pa55word', logger });
    const err = await rejection(client.openSession());
    expect(err).toBeInstanceOf(LogikalAuthError);
    expect(err.message).not.toContain('S3cr3t-Pa55word');
    expect(JSON.stringify(err)).not.toContain('S3cr3t-Pa55word');
    expect(logged).not.toContain('S3cr3t-Pa55word');
  });
});

describe('LogikalClient: navigation', () => {
  it('navigates to a parts list with the fewest calls, then elsewhere only via a new session', async () => {
    const { sim, client, project, other } = await setup();
    const s = await client.openSession();
    await s.navigate(target(project, 0, 10)); // P11
    expect(s.state).toBe('elevation');
    expect(s.location).toEqual({ directoryPath: 'Demo Odoo', projectId: project.data.id, phaseId: NULL_GUID, elevationId: project.phases[0]!.elevations[10]!.data.id });
    expect(sim.stats().requests).toMatchObject({ selectDirectory: 1, selectProject: 1, selectPhase: 1, selectElevation: 1 });
    const file = await s.partsList();
    expect(file.subarray(0, 16).equals(SQLITE_MAGIC)).toBe(true);
    expect(file.length % 4096).toBe(0);
    expect(file.length).toBeGreaterThanOrEqual(64 * 4096);
    expect((await s.selectedProject()).name).toBe('DOS22309');

    // Going up (another project, or back to a phase) is refused locally: no request is sent.
    const before = client.stats().requests;
    const up1 = await rejection(s.navigate(target(other, 0)));
    const up2 = await rejection(s.navigate(target(project, 0)));
    const up3 = await rejection(s.navigate({ directoryPath: 'Demo Odoo', projectId: project.data.id }));
    for (const e of [up1, up2, up3]) expect(e).toBeInstanceOf(WrongStateError);
    expect(up1.kind).toBe('local');
    expect(client.stats().requests).toBe(before);
    // Already there: nothing to do.
    await s.navigate(target(project, 0, 10));
    expect(client.stats().requests).toBe(before);
    await s.close();

    // A new session gets there.
    await client.withSession(async (s2) => {
      await s2.navigate(target(other, 0, 2));
      expect((await s2.partsList()).subarray(0, 16).equals(SQLITE_MAGIC)).toBe(true);
    });
    expect(sim.stats().liveSessions).toBe(0);
  });

  it('moves sideways when the server allows it: another elevation, another phase', async () => {
    const { sim, client, project } = await setup();
    await client.withSession(async (s) => {
      await s.navigate(target(project, 0, 0));
      await s.partsList();
      await s.navigate(target(project, 0, 1)); // sibling: one select
      expect(sim.stats().requests.selectElevation).toBe(2);
      await s.navigate(target(project, 1, 3)); // other phase: phase + elevation
      expect(sim.stats().requests).toMatchObject({ selectPhase: 2, selectElevation: 3, selectProject: 1, selectDirectory: 1 });
      expect(s.location.phaseId).toBe(project.phases[1]!.data.id);
      await s.partsList();
    });
  });

  it('sibling select refused by the server (knob off) is a WrongStateError, not retried', async () => {
    const { sim, client, project } = await setup({ allowSiblingElevationSelect: false });
    await client.withSession(async (s) => {
      await s.navigate(target(project, 0, 0));
      const err = await rejection(s.navigate(target(project, 0, 1)));
      expect(err).toBeInstanceOf(WrongStateError);
      expect(err).toMatchObject({ status: 405, errors: [WRONG_STATE_TEXT.phase], kind: 'http', attempts: 1 });
      expect(sim.stats().requests.selectElevation).toBe(2);
    });
    expect(client.stats().retries).toBe(0);
  });

  it('405 and 409 carry the exact texts and are never retried', async () => {
    const { sim, client, project } = await setup();
    await client.withSession(async (s) => {
      await s.navigate({ directoryPath: 'Demo Odoo', projectId: project.data.id });
      const e405 = await rejection(s.listProjects());
      expect(e405).toBeInstanceOf(WrongStateError);
      expect(e405).toMatchObject({ status: 405, op: 'listProjects', errors: ['This operation expects the session to be in a directory.'] });
      const e409 = await rejection(s.selectDirectory('Demo Odoo'));
      expect(e409).toBeInstanceOf(WrongStateError);
      expect(e409).toMatchObject({ status: 409, op: 'selectDirectory', errors: [invalidMappingText('Demo Odoo')] });
      const eParts = await rejection(s.partsList());
      expect(eParts).toMatchObject({ status: 405, errors: [WRONG_STATE_TEXT.elevation] });
      expect(s.state).toBe('project');
    });
    expect(sim.stats().requests).toMatchObject({ listProjects: 1, selectDirectory: 2, partsList: 1 });
    expect(client.stats().retries).toBe(0);
  });

  it('selectDirectory walks cumulative prefixes, climbs back directly and switches branches', async () => {
    const { sim, client } = await setup({ directorySelect: 'stepwise' });
    await client.withSession(async (s) => {
      await s.selectDirectory('Demo Odoo/Sublevel 1 Testing/Sublevel 2 Testing');
      expect(sim.stats().requests.selectDirectory).toBe(3);
      expect((await s.listDirectories()).map((d) => d.name)).toEqual(['Sublevel 3 Testing']);
      await s.selectDirectory('Demo Odoo/Sublevel 1 Testing/Sublevel 2 Testing');
      expect(sim.stats().requests.selectDirectory).toBe(3);
      await s.selectDirectory('Demo Odoo');
      expect(sim.stats().requests.selectDirectory).toBe(4);
      expect((await s.listProjects()).map((p) => p.name)).toEqual(['DOS22309', 'DOS22410', 'DOS22269']);
      await s.selectDirectory('Archief');
      expect((await s.listProjects()).map((p) => p.name)).toEqual(['DOS21077']);
      expect(s.location.directoryPath).toBe('Archief');
      await expect(s.selectDirectory('Nope')).rejects.toMatchObject({ status: 404 });
    });
  });

  it('lists phases, elevations and valid PNG thumbnails fitted into the box', async () => {
    const { client, project } = await setup();
    await client.withSession(async (s) => {
      await s.navigate({ directoryPath: 'Demo Odoo', projectId: project.data.id });
      const phases = await s.listPhases();
      expect(phases.map((p) => p.name)).toEqual(['Posities zonder levering', 'Fase 1 (DEMO)']);
      await s.navigate({ directoryPath: 'Demo Odoo', projectId: project.data.id, phaseId: phases[0]!.id });
      const elevations = await s.listElevations();
      expect(elevations).toHaveLength(13);
      const thumbs = await Promise.all(elevations.map((e) => s.thumbnail(e.id)));
      for (const [i, png] of thumbs.entries()) {
        const size = pngSize(png)!;
        expect(size).toBeDefined();
        expect(Math.max(size.width, size.height)).toBe(300);
        const e = elevations[i]!;
        expect(Math.abs(size.width / size.height - e.width / e.height)).toBeLessThan(0.05);
      }
      expect(pngSize(await s.thumbnail(elevations[10]!.id, { width: 150, height: 150 }))).toEqual({ width: 150, height: 109 });
      // In elevation state the selected elevation's thumbnail comes from /elevations/selected/thumbnail.
      await s.selectElevation(elevations[10]!.id);
      expect(pngSize(await s.thumbnail(elevations[10]!.id))).toEqual({ width: 300, height: 217 });
      await expect(s.thumbnail(elevations[0]!.id)).rejects.toBeInstanceOf(WrongStateError);
    });
  });

  it('refuses overlapping a select with other calls on one session', async () => {
    const { client, project } = await setup();
    await client.withSession(async (s) => {
      await s.selectDirectory('Demo Odoo');
      const sel = s.selectProject(project.data.id);
      await expect(s.listProjects()).rejects.toMatchObject({ kind: 'local' });
      await sel;
      expect(s.state).toBe('project');
    });
  });
});

describe('LogikalClient: retries', () => {
  it('retries injected 5xx answers within the budget', async () => {
    const { sim, client, project } = await setup({ faults: { status5xx: { op: 'listPhases', times: 3 } } });
    await client.withSession(async (s) => {
      await s.navigate({ directoryPath: 'Demo Odoo', projectId: project.data.id });
      expect(await s.listPhases()).toHaveLength(2);
    });
    expect(sim.stats().requests.listPhases).toBe(4);
    expect(client.stats().retries).toBe(3);
  });

  it('gives up after the budget with the last error', async () => {
    const { sim, client } = await setup({ faults: { status5xx: { op: 'listDirectories', status: 500 } } }, { retries: 2 });
    await client.withSession(async (s) => {
      const err = await rejection(s.listDirectories());
      expect(err).toMatchObject({ status: 500, attempts: 3, kind: 'http' });
    });
    expect(sim.stats().requests.listDirectories).toBe(3);
  });

  it('retries timeouts', async () => {
    const { sim, client, project } = await setup({ faults: { timeout: { op: 'listElevations', times: 2 } } }, { timeoutMs: 150 });
    await client.withSession(async (s) => {
      await s.navigate(target(project, 1));
      expect(await s.listElevations()).toHaveLength(4);
    });
    expect(sim.stats().requests.listElevations).toBe(3);
    expect(client.stats().retries).toBe(2);
  });

  it('retries a truncated parts-list body and gets the whole file', async () => {
    const { sim, client, project } = await setup({ faults: { truncateBody: { op: 'partsList', times: 1 } } });
    await client.withSession(async (s) => {
      await s.navigate(target(project, 0, 2));
      const file = await s.partsList();
      expect(file.subarray(0, 16).equals(SQLITE_MAGIC)).toBe(true);
      expect(file.length % 4096).toBe(0);
      expect(file.length).toBeGreaterThanOrEqual(64 * 4096);
    });
    expect(sim.stats().requests.partsList).toBe(2);
    expect(sim.stats().faults.truncateBody).toBe(1);
  });

  it('a truncated thumbnail is retried too', async () => {
    const { client, project } = await setup({ faults: { truncateBody: { op: 'thumbnail', times: 1 } } });
    await client.withSession(async (s) => {
      await s.navigate(target(project, 0));
      expect(pngSize(await s.thumbnail(project.phases[0]!.elevations[0]!.data.id))).toBeDefined();
    });
    expect(client.stats().retries).toBe(1);
  });

  it('a login is retried after 500/503 but not when its outcome is unknown', async () => {
    const { sim, client } = await setup({ faults: { status5xx: { op: 'login', times: 1, status: 503 } } }, { timeoutMs: 150 });
    await client.withSession(async () => undefined);
    expect(sim.stats().requests.login).toBe(2);

    sim.setFaults({ timeout: { op: 'login', times: 1 } });
    const timedOut = await rejection(client.openSession());
    expect(timedOut).toMatchObject({ kind: 'timeout', op: 'login' });
    expect(sim.stats().requests.login).toBe(3);

    // A truncated login answer: the session exists on the server (a seat is taken) but the
    // client never learnt its token; it is not retried blindly and expires on its own.
    sim.setFaults({ truncateBody: { op: 'login', times: 1 } });
    const truncated = await rejection(client.openSession());
    expect(['invalid-body', 'network']).toContain(truncated.kind);
    expect(sim.stats().requests.login).toBe(4);
    expect(sim.stats().liveSessions).toBe(1);
  });

  it('logs retries without the password or tokens', async () => {
    let logged = '';
    const logger = createLogger('debug', new Writable({ write: (c, _e, cb) => ((logged += String(c)), cb()) }));
    const { client, project } = await setup(
      { credentials: { username: 'demo', password: 'Hunter2-very-secret' }, faults: { status5xx: { op: 'any', rate: 0.3, status: 503 }, seed: 7 } },
      { password: 'Hunter2-very-secret', logger, retries: 6 },
    );
    await client.withSession(async (s) => {
      await s.navigate(target(project, 0, 0));
      await s.partsList();
    });
    expect(client.stats().retries).toBeGreaterThan(0);
    expect(logged).toContain('retrying');
    expect(logged).not.toContain('Hunter2-very-secret');
    expect(logged).not.toMatch(/Bearer [0-9a-f]/i);
  });
});

describe('LogikalClient: HTTP', () => {
  it('reuses keep-alive sockets across requests and sessions', async () => {
    const { sim, client, project } = await setup();
    for (let i = 0; i < 3; i++) {
      await client.withSession(async (s) => {
        await s.navigate(target(project, 0, i));
        await s.partsList();
      });
    }
    const st = sim.stats();
    const requests = Object.values(st.requests).reduce((a, b) => a + b, 0);
    expect(requests).toBe(21);
    expect(st.connections).toBeLessThanOrEqual(2);
    expect(st.connections).toBeLessThan(requests);
  });

  it('rejects a 200 without data as a contract error, without retrying', async () => {
    const { sim, client } = await setup();
    // With no version in the dataset the simulator answers `{ hints, warnings }` without data.
    sim.dataset.version = undefined as never;
    const err = await rejection(client.version());
    expect(err).toMatchObject({ kind: 'contract', status: 200 });
    expect(client.stats().retries).toBe(0);
  });
});

describe('decodeBase64Data (the parts list fast path)', () => {
  const data = Buffer.from('SQLite format 3\u0000 and some parts-list bytes');
  const b64 = data.toString('base64');
  it('finds data wherever it sits in the envelope, and falls back to JSON.parse for escapes', () => {
    expect(decodeBase64Data(Buffer.from(`{"data":"${b64}","hints":[],"warnings":[]}`))).toEqual(data);
    expect(decodeBase64Data(Buffer.from(`{"hints":[], "data" : "${b64}"}`))).toEqual(data);
    expect(decodeBase64Data(Buffer.from(`{"data":"${b64.replace(/\//g, '\\/')}"}`))).toEqual(data);
  });
  it('refuses what is not whole base64', () => {
    expect(() => decodeBase64Data(Buffer.from(`{"data":"${b64.slice(0, -4)}!!!!"}`))).toThrow(/base64/);
    expect(() => decodeBase64Data(Buffer.from('{"data":"abc"}'))).toThrow(/base64/);
    expect(() => decodeBase64Data(Buffer.from('{"data":12}'))).toThrow(/base64/);
  });
});
