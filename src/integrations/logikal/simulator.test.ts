/**
 * The simulator over real HTTP, spoken to with a plain fetch (no client logic in between), so
 * these tests pin the wire behaviour: envelopes, statuses, exact texts, the state machine,
 * seats, knobs, faults and latency.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { NULL_GUID, WRONG_STATE_TEXT, invalidMappingText, type ElevationData, type PhaseData, type ProjectData } from './contract';
import { demoDataset, pngSize, startLogikalSimulator, type LogikalSimulator, type SimulatorOptions } from './simulator';

const SMALL_PARTS = 64 * 4096;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

let sims: LogikalSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function start(opts: SimulatorOptions = {}): Promise<LogikalSimulator> {
  const sim = await startLogikalSimulator({ latencyScale: 0, dataset: demoDataset({ partsListBytes: SMALL_PARTS }), ...opts });
  sims.push(sim);
  return sim;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  buf: Buffer;
  json: any;
}

/** One raw HTTP request (fresh connection), resolving even on truncated bodies. */
function raw(
  sim: LogikalSimulator,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; rawBody?: string; query?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer & { truncated: boolean }> {
  const url = new URL(sim.url + path);
  for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
  const payload = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers: {
          ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}),
          ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
        timeout: o.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let truncated = false;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('aborted', () => (truncated = true));
        res.on('error', () => (truncated = true));
        res.on('close', () => {
          const buf = Buffer.concat(chunks);
          let json: unknown;
          try {
            json = JSON.parse(buf.toString('utf8'));
          } catch {
            json = undefined;
          }
          const declared = Number(res.headers['content-length'] ?? buf.length);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, buf, json, truncated: truncated || declared !== buf.length });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

async function login(sim: LogikalSimulator): Promise<string> {
  const r = await raw(sim, 'POST', '/auth', { body: { username: 'demo', password: 'demo', erp: true } });
  expect(r.status).toBe(200);
  return r.json.data.token as string;
}

const THUMB = { width: '300', height: '300', format: 'PNG', view: 'Interior', withdimensions: 'true', withdescription: 'false' };

function dos22309(sim: LogikalSimulator) {
  const dir = sim.dataset.directories.find((d) => d.path === 'Demo Odoo')!;
  return dir.projects.find((p) => p.data.name === 'DOS22309')!;
}

describe('Logikal simulator: envelopes and authentication', () => {
  it('GET /version needs no token and answers the data envelope', async () => {
    const sim = await start();
    const r = await raw(sim, 'GET', '/version');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ data: { componentVersions: expect.any(Array) }, hints: [], warnings: [] });
    expect(r.json.data.componentVersions[0]).toMatchObject({ name: 'MBIOE Service', version: '12.2.6.59' });
  });

  it('POST /auth: SessionData with a GUID token; bad credentials 401; bad bodies 400', async () => {
    const sim = await start();
    const ok = await raw(sim, 'POST', '/auth', { body: { username: 'demo', password: 'demo', erp: true } });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ data: { username: 'demo', token: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/) }, hints: [], warnings: [] });

    const bad = await raw(sim, 'POST', '/auth', { body: { username: 'demo', password: 'nope' } });
    expect(bad.status).toBe(401);
    expect(bad.json).toEqual({ message: expect.any(String), code: 401, hints: [], warnings: [], errors: ['Authentication failed. Invalid username or password.'] });

    for (const body of [{ username: 'demo' }, { password: 'demo' }, { username: 'demo', password: 'demo', erp: 'yes' }, [1, 2]]) {
      expect((await raw(sim, 'POST', '/auth', { body })).status).toBe(400);
    }
    expect((await raw(sim, 'POST', '/auth', { rawBody: '{"username": "demo", ' })).status).toBe(400);
    expect(sim.stats().logins).toBe(1);
  });

  it('missing, unknown and logged-out tokens get 401; DELETE /auth has no data', async () => {
    const sim = await start();
    expect((await raw(sim, 'GET', '/directories')).status).toBe(401);
    const unknown = await raw(sim, 'GET', '/directories', { token: '6f1c2d3e-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(401);
    expect(unknown.json.errors).toEqual(['Invalid session authentication identifier.']);
    const token = await login(sim);
    const out = await raw(sim, 'DELETE', '/auth', { token });
    expect(out.status).toBe(200);
    expect(out.json).toEqual({ hints: [], warnings: [] });
    expect((await raw(sim, 'GET', '/directories', { token })).status).toBe(401);
    expect((await raw(sim, 'DELETE', '/auth', { token })).status).toBe(401);
    expect(sim.stats()).toMatchObject({ liveSessions: 0, logins: 1, logouts: 1 });
  });

  it('unknown endpoints answer 404 with the error envelope', async () => {
    const sim = await start();
    const token = await login(sim);
    const r = await raw(sim, 'GET', `/projects/${dos22309(sim).data.id}`, { token });
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ code: 404, errors: [expect.any(String)] });
    expect(sim.stats().requests.unknown).toBe(1);
  });
});

describe('Logikal simulator: the session state machine', () => {
  it('walks root → directory → project → phase → elevation → parts list, with the spec texts on wrong state', async () => {
    const sim = await start();
    const t = await login(sim);

    // Root: top-level directories, no root projects.
    const roots = await raw(sim, 'GET', '/directories', { token: t });
    expect(roots.json.data).toEqual([
      { name: 'Demo Odoo', path: 'Demo Odoo' },
      { name: 'Archief', path: 'Archief' },
    ]);
    expect((await raw(sim, 'GET', '/projects', { token: t })).json.data).toEqual([]);

    // Directory: select has no data; projects of the selected directory only.
    const sel = await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
    expect(sel.status).toBe(200);
    expect(sel.json).toEqual({ hints: [], warnings: [] });
    const projects = (await raw(sim, 'GET', '/projects', { token: t })).json.data as ProjectData[];
    expect(projects.map((p) => p.name)).toEqual(['DOS22309', 'DOS22410', 'DOS22269']);
    expect(projects[0]).toMatchObject({ jobNumber: '0000003948', isDeleted: false, estimated: false, createdDate: 1711463060 });
    expect((await raw(sim, 'GET', '/directories', { token: t })).json.data).toEqual([{ name: 'Sublevel 1 Testing', path: 'Demo Odoo/Sublevel 1 Testing' }]);

    // Wrong state before a project is selected.
    expect((await raw(sim, 'GET', '/projects/selected', { token: t })).json.errors).toEqual([WRONG_STATE_TEXT.project]);
    expect((await raw(sim, 'GET', '/phases', { token: t })).status).toBe(405);
    const pl0 = await raw(sim, 'GET', '/elevations/selected/parts-list', { token: t });
    expect([pl0.status, pl0.json.errors]).toEqual([405, ['This operation expects the session to be in an elevation.']]);

    // Project.
    const p = projects[0]!;
    expect((await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: p.id } })).status).toBe(200);
    const r405 = await raw(sim, 'GET', '/projects', { token: t });
    expect(r405.status).toBe(405);
    expect(r405.json.errors).toEqual(['This operation expects the session to be in a directory.']);
    expect((await raw(sim, 'GET', '/directories', { token: t })).status).toBe(405);
    const r409 = await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
    expect(r409.status).toBe(409);
    expect(r409.json.errors).toEqual(["The requested resource 'Demo Odoo' cannot be set, because it isn't valid in the current mapping."]);
    expect(r409.json.errors[0]).toBe(invalidMappingText('Demo Odoo'));
    expect((await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: p.id } })).json.errors).toEqual([WRONG_STATE_TEXT.directory]);
    expect((await raw(sim, 'GET', '/projects/selected', { token: t })).json.data).toEqual(p);
    expect((await raw(sim, 'GET', '/elevations', { token: t })).json.errors).toEqual(['This operation expects the session to be in a phase.']);
    const phases = (await raw(sim, 'GET', '/phases', { token: t })).json.data as PhaseData[];
    expect(phases).toEqual([
      { id: NULL_GUID, name: 'Posities zonder levering', description: '' },
      { id: expect.any(String), name: 'Fase 1 (DEMO)', description: expect.any(String) },
    ]);

    // Phase (the null GUID is selectable).
    expect((await raw(sim, 'POST', '/phases/select', { token: t, body: { identifier: NULL_GUID } })).status).toBe(200);
    expect((await raw(sim, 'GET', '/phases', { token: t })).json.errors).toEqual([WRONG_STATE_TEXT.project]);
    expect((await raw(sim, 'GET', '/projects/selected', { token: t })).status).toBe(200);
    const elevations = (await raw(sim, 'GET', '/elevations', { token: t })).json.data as ElevationData[];
    expect(elevations.map((e) => e.name)).toEqual(['P01', 'P02', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'P09', 'P10', 'P11', 'P12', 'P13']);
    const p11 = elevations.find((e) => e.name === 'P11')!;
    expect(p11).toMatchObject({ width: 3100, height: 2245, systemDescription: 'Reynaers ConceptPatio 130-LS (CP 130-LS)', isInRecycleBin: false });
    expect(p11.changedDate).toBeGreaterThan(p11.createdDate);
    expect(p11.changedDate).toBeLessThan(1e10); // epoch seconds
    expect(Object.keys(p11).sort()).toEqual(
      [
        'id', 'versionId', 'name', 'amount', 'isInRecycleBin', 'automaticDescription', 'systemDescription', 'modelDescription',
        'userDescription', 'surfaceOfBaseElement', 'surfaceOfInsertions', 'createdByUser', 'createdDate', 'changedDate', 'width',
        'height', 'isElementPricelistElevation', 'elementPricelistId', 'type', 'state',
      ].sort(),
    );
    const pl1 = await raw(sim, 'GET', '/elevations/selected/parts-list', { token: t });
    expect([pl1.status, pl1.json.errors]).toEqual([405, [WRONG_STATE_TEXT.elevation]]);

    // Thumbnail from phase state: raw PNG bytes fitted into the box.
    const th = await raw(sim, 'GET', `/elevations/${p11.id}/thumbnail`, { token: t, query: THUMB });
    expect(th.status).toBe(200);
    expect(th.headers['content-type']).toBe('application/octet-stream');
    expect(pngSize(th.buf)).toEqual({ width: 300, height: 217 });

    // Elevation.
    expect((await raw(sim, 'POST', '/elevations/select', { token: t, body: { identifier: p11.id.toUpperCase() } })).status).toBe(200);
    expect((await raw(sim, 'GET', '/elevations', { token: t })).json.errors).toEqual([WRONG_STATE_TEXT.phase]);
    expect((await raw(sim, 'GET', `/elevations/${p11.id}/thumbnail`, { token: t, query: THUMB })).status).toBe(405);
    const sth = await raw(sim, 'GET', '/elevations/selected/thumbnail', { token: t, query: { ...THUMB, width: '100', height: '200' } });
    expect(pngSize(sth.buf)).toEqual({ width: 100, height: 72 });
    const pl = await raw(sim, 'GET', '/elevations/selected/parts-list', { token: t });
    expect(pl.status).toBe(200);
    expect(Object.keys(pl.json).sort()).toEqual(['data', 'hints', 'warnings']);
    const file = Buffer.from(pl.json.data as string, 'base64');
    expect(file.subarray(0, 16).equals(SQLITE_MAGIC)).toBe(true);
    expect(sim.stats()).toMatchObject({ partsListDownloads: 1, thumbnailDownloads: 2 });

    // Still no way up.
    expect((await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Archief' } })).status).toBe(409);
    expect((await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: p.id } })).status).toBe(405);
  });

  it('directory select: cumulative walk, direct deep path from the root, climbing back, and stepwise mode', async () => {
    const sim = await start();
    const t = await login(sim);
    const deep = 'Demo Odoo/Sublevel 1 Testing';
    expect((await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: deep } })).status).toBe(200);
    expect((await raw(sim, 'GET', '/projects', { token: t })).json.data.map((p: ProjectData) => p.name)).toEqual(['DOS22415']);
    expect((await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } })).status).toBe(200);
    expect((await raw(sim, 'GET', '/projects', { token: t })).json.data).toHaveLength(3);
    const missing = await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo/Nope' } });
    expect(missing.status).toBe(404);
    expect((await raw(sim, 'POST', '/directories/select', { token: t, body: {} })).status).toBe(400);

    sim.setOptions({ directorySelect: 'stepwise' });
    const t2 = await login(sim);
    const far = 'Demo Odoo/Sublevel 1 Testing/Sublevel 2 Testing';
    const refused = await raw(sim, 'POST', '/directories/select', { token: t2, body: { identifier: far } });
    expect([refused.status, refused.json.errors]).toEqual([409, [invalidMappingText(far)]]);
    for (const step of ['Demo Odoo', 'Demo Odoo/Sublevel 1 Testing', far, 'Demo Odoo', 'Archief']) {
      expect((await raw(sim, 'POST', '/directories/select', { token: t2, body: { identifier: step } })).status).toBe(200);
    }
  });

  it('answers 404 for unknown ids on select and 400 for identifiers that are not GUIDs', async () => {
    const sim = await start();
    const t = await login(sim);
    await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
    const ghost = '11111111-2222-4333-8444-555555555555';
    expect((await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: ghost } })).status).toBe(404);
    expect((await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: 'DOS22309' } })).status).toBe(400);
    // A project of another directory is not selectable from here.
    const archived = sim.dataset.directories.find((d) => d.path === 'Archief')!.projects[0]!;
    expect((await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: archived.data.id } })).status).toBe(404);
    const p = dos22309(sim);
    await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: `{${p.data.id.toUpperCase()}}` } });
    expect((await raw(sim, 'POST', '/phases/select', { token: t, body: { identifier: ghost } })).status).toBe(404);
    await raw(sim, 'POST', '/phases/select', { token: t, body: { identifier: NULL_GUID } });
    expect((await raw(sim, 'POST', '/elevations/select', { token: t, body: { identifier: ghost } })).status).toBe(404);
    // P14 lives in "Fase 1 (DEMO)", not in the selected phase.
    const p14 = p.phases[1]!.elevations[0]!.data.id;
    expect((await raw(sim, 'POST', '/elevations/select', { token: t, body: { identifier: p14 } })).status).toBe(404);
    expect((await raw(sim, 'GET', `/elevations/${p14}/thumbnail`, { token: t, query: THUMB })).status).toBe(400);
  });

  it('thumbnails need all six query parameters', async () => {
    const sim = await start();
    const t = await login(sim);
    const p = dos22309(sim);
    await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
    await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: p.data.id } });
    await raw(sim, 'POST', '/phases/select', { token: t, body: { identifier: NULL_GUID } });
    const id = p.phases[0]!.elevations[0]!.data.id;
    for (const k of Object.keys(THUMB)) {
      const q: Record<string, string> = { ...THUMB };
      delete q[k];
      expect((await raw(sim, 'GET', `/elevations/${id}/thumbnail`, { token: t, query: q })).status).toBe(400);
    }
    expect((await raw(sim, 'GET', `/elevations/${id}/thumbnail`, { token: t, query: { ...THUMB, view: 'Sideways' } })).status).toBe(400);
    const ok = await raw(sim, 'GET', `/elevations/${id}/thumbnail`, { token: t, query: THUMB });
    expect(ok.status).toBe(200);
    expect(ok.buf.length).toBeGreaterThan(100);
  });

  it('sibling elevation select and phase reselect follow their knobs', async () => {
    const sim = await start();
    const p = dos22309(sim);
    const [a, b] = p.phases[0]!.elevations.map((e) => e.data.id);
    const fase1 = p.phases[1]!.data.id;
    const toElevation = async () => {
      const t = await login(sim);
      await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
      await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: p.data.id } });
      await raw(sim, 'POST', '/phases/select', { token: t, body: { identifier: NULL_GUID } });
      expect((await raw(sim, 'POST', '/elevations/select', { token: t, body: { identifier: a } })).status).toBe(200);
      return t;
    };

    const t1 = await toElevation();
    expect((await raw(sim, 'POST', '/elevations/select', { token: t1, body: { identifier: b } })).status).toBe(200);
    expect((await raw(sim, 'GET', '/elevations/selected/parts-list', { token: t1 })).status).toBe(200);
    // elevation → other phase (phase reselect knob, default on)
    expect((await raw(sim, 'POST', '/phases/select', { token: t1, body: { identifier: fase1 } })).status).toBe(200);
    expect((await raw(sim, 'GET', '/elevations', { token: t1 })).json.data.map((e: ElevationData) => e.name)).toEqual(['P14', 'P15', 'P16', 'P17']);

    sim.setOptions({ allowSiblingElevationSelect: false, allowPhaseReselect: false });
    const t2 = await toElevation();
    const sib = await raw(sim, 'POST', '/elevations/select', { token: t2, body: { identifier: b } });
    expect([sib.status, sib.json.errors]).toEqual([405, ['This operation expects the session to be in a phase.']]);
    const ph = await raw(sim, 'POST', '/phases/select', { token: t2, body: { identifier: fase1 } });
    expect([ph.status, ph.json.errors]).toEqual([405, ['This operation expects the session to be in a project.']]);
  });
});

describe('Logikal simulator: licence seats and expiry', () => {
  it('refuses a login beyond maxSessions (unverified wire format) and frees seats on logout and expiry', async () => {
    const sim = await start({ maxSessions: 2 });
    const a = await login(sim);
    await login(sim);
    const refused = await raw(sim, 'POST', '/auth', { body: { username: 'demo', password: 'demo', erp: true } });
    expect(refused.status).toBe(409);
    expect(refused.json.errors).toEqual(['No free licence available: 2 of 2 API sessions in use.']);
    expect(sim.stats()).toMatchObject({ liveSessions: 2, peakSessions: 2, loginRefusals: 1 });

    await raw(sim, 'DELETE', '/auth', { token: a });
    const c = await login(sim);
    expect(sim.stats().liveSessions).toBe(2);

    sim.expireAllSessions();
    expect(sim.stats()).toMatchObject({ liveSessions: 0, expiredSessions: 2 });
    expect((await raw(sim, 'GET', '/directories', { token: c })).status).toBe(401);
    await login(sim);
    await login(sim);
    expect(sim.stats().liveSessions).toBe(2);
  });

  it('idle sessions expire after sessionTtlMs; activity keeps them alive', async () => {
    const sim = await start({ sessionTtlMs: 500 });
    const idle = await login(sim);
    const busy = await login(sim);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 120));
      expect((await raw(sim, 'GET', '/directories', { token: busy })).status).toBe(200);
    }
    expect((await raw(sim, 'GET', '/directories', { token: idle })).status).toBe(401);
    expect(sim.stats()).toMatchObject({ liveSessions: 1, expiredSessions: 1 });
  });
});

describe('Logikal simulator: parts lists, edits and data', () => {
  it('caches a generated file per (elevation, versionId); editElevation makes a new one', async () => {
    const sim = await start();
    const p = dos22309(sim);
    const e = p.phases[0]!.elevations[2]!;
    const download = async () => {
      const t = await login(sim);
      await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
      await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: p.data.id } });
      await raw(sim, 'POST', '/phases/select', { token: t, body: { identifier: NULL_GUID } });
      const list = (await raw(sim, 'GET', '/elevations', { token: t })).json.data as ElevationData[];
      await raw(sim, 'POST', '/elevations/select', { token: t, body: { identifier: e.data.id } });
      const r = await raw(sim, 'GET', '/elevations/selected/parts-list', { token: t });
      await raw(sim, 'DELETE', '/auth', { token: t });
      return { file: Buffer.from(r.json.data as string, 'base64'), listed: list.find((x) => x.id === e.data.id)! };
    };
    const first = await download();
    const again = await download();
    expect(again.file.equals(first.file)).toBe(true);
    expect(sim.stats()).toMatchObject({ partsListDownloads: 2, partsListGenerations: 1 });

    sim.editElevation(e.data.id, { name: 'P03b', amount: 5 });
    const edited = await download();
    expect(edited.listed.name).toBe('P03b');
    expect(edited.listed.amount).toBe(5);
    expect(edited.listed.versionId).not.toBe(first.listed.versionId);
    expect(edited.listed.changedDate).toBeGreaterThan(first.listed.changedDate);
    expect(sim.stats().partsListGenerations).toBe(2);
    expect(edited.file.subarray(0, 16).equals(SQLITE_MAGIC)).toBe(true);
  });

  it('serves explicit partsList bytes as they are (hostile files)', async () => {
    const sim = await start();
    const p = dos22309(sim);
    const e = p.phases[1]!.elevations[0]!;
    e.partsList = Buffer.from('definitely not sqlite');
    const t = await login(sim);
    await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
    await raw(sim, 'POST', '/projects/select', { token: t, body: { identifier: p.data.id } });
    await raw(sim, 'POST', '/phases/select', { token: t, body: { identifier: p.phases[1]!.data.id } });
    await raw(sim, 'POST', '/elevations/select', { token: t, body: { identifier: e.data.id } });
    const r = await raw(sim, 'GET', '/elevations/selected/parts-list', { token: t });
    expect(Buffer.from(r.json.data as string, 'base64').toString()).toBe('definitely not sqlite');
    expect(sim.stats().partsListGenerations).toBe(0);
  });

  it('the demo dataset is stable across runs and shaped like DOS22309', () => {
    const a = demoDataset();
    const b = demoDataset();
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const demo = a.directories[0]!;
    expect(demo.children[0]!.path).toBe('Demo Odoo/Sublevel 1 Testing');
    const p = demo.projects[0]!;
    expect(p.phases.map((ph) => [ph.data.name, ph.elevations.length])).toEqual([
      ['Posities zonder levering', 13],
      ['Fase 1 (DEMO)', 4],
    ]);
    expect(p.phases[0]!.data.id).toBe(NULL_GUID);
    // Every project's default phase has the same null GUID.
    expect(demo.projects.every((x) => x.phases[0]!.data.id === NULL_GUID)).toBe(true);
  });
});

describe('Logikal simulator: faults and latency', () => {
  it('injects 5xx (503, then an HTML 502) without performing the operation', async () => {
    const sim = await start({ faults: { status5xx: { op: 'selectDirectory', times: 2 } } });
    const t = await login(sim);
    const first = await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
    expect(first.status).toBe(503);
    expect(first.json).toMatchObject({ code: 503, errors: [expect.any(String)] });
    const second = await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
    expect(second.status).toBe(502);
    expect(second.headers['content-type']).toMatch(/text\/html/);
    // Not performed: still at the root.
    expect((await raw(sim, 'GET', '/projects', { token: t })).json.data).toEqual([]);
    expect((await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } })).status).toBe(200);
    expect(sim.stats().faults.status5xx).toBe(2);
    expect(sim.stats().requests.selectDirectory).toBe(3);
  });

  it('truncates bodies (Content-Length larger than what is sent) after performing the operation', async () => {
    const sim = await start({ faults: { truncateBody: { op: 'selectDirectory', times: 1 } } });
    const t = await login(sim);
    const r = await raw(sim, 'POST', '/directories/select', { token: t, body: { identifier: 'Demo Odoo' } });
    expect(r.truncated).toBe(true);
    expect((await raw(sim, 'GET', '/projects', { token: t })).json.data).toHaveLength(3);
    expect(sim.stats().faults.truncateBody).toBe(1);
  });

  it('holds timed-out requests until the client gives up', async () => {
    const sim = await start({ faults: { timeout: { op: 'version', times: 1 } } });
    const began = Date.now();
    await expect(raw(sim, 'GET', '/version', { timeoutMs: 200 })).rejects.toThrow(/client timeout/);
    expect(Date.now() - began).toBeGreaterThanOrEqual(190);
    expect((await raw(sim, 'GET', '/version')).status).toBe(200);
    expect(sim.stats().faults.timeout).toBe(1);
  });

  it('rate-based faults are reproducible for a seed', async () => {
    const pattern = async () => {
      const sim = await start({ faults: { status5xx: { op: 'version', rate: 0.5, status: 500 }, seed: 42 } });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await raw(sim, 'GET', '/version')).status);
      return out;
    };
    const a = await pattern();
    expect(a).toEqual(await pattern());
    expect(a).toContain(500);
    expect(a).toContain(200);
  });

  it('latency is per operation, scaled, and does not block other sessions', async () => {
    const sim = await start({ latencyScale: 1, latencyMs: { login: 300, version: 0 } });
    const began = Date.now();
    await Promise.all([login(sim), login(sim), login(sim)]);
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(750); // in parallel, not 3 × 300
    sim.setOptions({ latencyScale: 0 });
    const quick = Date.now();
    await login(sim);
    expect(Date.now() - quick).toBeLessThan(250);
  });
});
