/**
 * IikoClient against the simulator over real HTTP (latencyScale 0): seats and sessions, the
 * mutex, licence refusals, token expiry and re-auth, retries (and the login exception), hostile
 * and malformed XML, sales against the generator and the demo data, keep-alive, secrecy.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger';
import { TransportFailure } from '../http-transport';
import {
  IikoAuthError,
  IikoClient,
  IikoError,
  IikoLicenceError,
  IikoXmlError,
  type IikoServerConfig,
} from './client';
import { demoIikoData } from './demo-data';
import { demoIikoServers, generateDepartments, generateSales, startIikoSimulator, type IikoSimulator, type IikoSimulatorOptions } from './simulator';

let sims: IikoSimulator[] = [];
let clients: IikoClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
  clients = [];
});

const DEPARTMENTS = generateDepartments({ count: 60, seed: 11, typesMix: true });
const SELLING = DEPARTMENTS.filter((d) => d.type === 'DEPARTMENT').map((d) => d.id);

async function setup(opts: IikoSimulatorOptions = {}, copts: Partial<IikoServerConfig> = {}) {
  const sim = await startIikoSimulator({
    latencyScale: 0,
    data: { departments: DEPARTMENTS, sales: generateSales({ departments: SELLING, dishes: 30, from: '2026-01-01', to: '2026-03-31', seed: 3 }) },
    ...opts,
  });
  sims.push(sim);
  const client = newClient(sim, copts);
  return { sim, client };
}

function newClient(sim: IikoSimulator, copts: Partial<IikoServerConfig> = {}): IikoClient {
  const client = new IikoClient({ name: 'main', baseUrl: sim.url, login: 'admin', password: 'secret', retryBaseMs: 5, timeoutMs: 2_000, ...copts });
  clients.push(client);
  return client;
}

async function rejection(p: Promise<unknown>): Promise<IikoError> {
  try {
    await p;
  } catch (e) {
    return e as IikoError;
  }
  throw new Error('expected a rejection');
}

describe('IikoClient: sessions and seats', () => {
  it('logs in, runs fn, logs out; the seat is back to 0 also when fn throws', async () => {
    const { sim, client } = await setup();
    const list = await client.session(async (s) => {
      expect(sim.stats().liveTokens).toBe(1);
      return s.departments();
    });
    expect(list).toEqual(DEPARTMENTS);
    expect(sim.stats()).toMatchObject({ liveTokens: 0, logins: 1, logouts: 1 });

    await expect(
      client.session(async (s) => {
        await s.departments();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(sim.stats()).toMatchObject({ liveTokens: 0, logins: 2, logouts: 2 });
    expect(client.stats()).toMatchObject({ logins: 2, logouts: 2, retries: 0 });

    // a call left running when fn ends is waited for before the logout
    sim.setOptions({ latencyScale: 1, latencyMs: { olap: 150, auth: 0, logout: 0, departments: 0 } });
    let straggler: Promise<unknown> | undefined;
    await client.session(async (s) => {
      straggler = s.sales('2026-02-02');
    });
    expect(sim.stats().liveTokens).toBe(0);
    await expect(straggler).resolves.toBeInstanceOf(Array);
  });

  it('serialises concurrent sessions of one client: at most one seat, peakTokens 1', async () => {
    const { sim, client } = await setup({ seats: 1, latencyScale: 1, latencyMs: { auth: 5, logout: 5, departments: 30, olap: 30 } });
    const order: string[] = [];
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        client.session(async (s) => {
          order.push(`start ${n}`);
          const [d, rows] = await Promise.all([s.departments(), s.sales('2026-01-15')]); // concurrent calls on one token
          order.push(`end ${n}`);
          return d.length + rows.length;
        }),
      ),
    );
    expect(results.every((r) => r > DEPARTMENTS.length)).toBe(true);
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(sim.stats()).toMatchObject({ peakTokens: 1, liveTokens: 0, logins: 3, logouts: 3, refusedLogins: 0 });
  });

  it('refuses a session() nested in a session of the same client instead of deadlocking', async () => {
    const { sim, client } = await setup();
    await expect(client.session(() => client.session(async () => 1))).rejects.toThrow(/inside a session of the same client/);
    expect(sim.stats().liveTokens).toBe(0);
  });

  it('licence refused (the seat is held by another client) → IikoLicenceError, not retried', async () => {
    const { sim, client } = await setup({ seats: 1 });
    const other = newClient(sim);
    let inner: IikoError | undefined;
    await other.session(async () => {
      inner = await rejection(client.session(async (s) => s.departments()));
    });
    expect(inner).toBeInstanceOf(IikoLicenceError);
    expect(inner).toMatchObject({ status: 409, server: 'main', op: 'login', kind: 'http' });
    expect(inner!.message).toMatch(/no free licence seat/);
    expect(sim.stats()).toMatchObject({ refusedLogins: 1, liveTokens: 0, peakTokens: 1 });
    expect(sim.stats().requests.auth).toBe(2);
    // the seat is free again: the refused client works now
    expect(await client.session((s) => s.departments())).toHaveLength(DEPARTMENTS.length);
  });

  it('bad credentials → IikoAuthError on login, not retried', async () => {
    const { sim, client } = await setup({}, { password: 'wrong' });
    const e = await rejection(client.session((s) => s.departments()));
    expect(e).toBeInstanceOf(IikoAuthError);
    expect(e).toMatchObject({ status: 401, op: 'login' });
    expect(sim.stats()).toMatchObject({ badCredentials: 1, liveTokens: 0 });
    expect(sim.stats().requests.auth).toBe(1);
  });

  it('a token that expires mid-session is replaced by one re-login, and the call repeated', async () => {
    const { sim, client } = await setup();
    const n = await client.session(async (s) => {
      await s.departments();
      sim.expireAllTokens(); // the server forgets the token (expiry, restart)
      const [a, b, c] = await Promise.all([s.departments(), s.sales('2026-01-10'), s.sales('2026-01-11')]);
      return a.length + b.length + c.length;
    });
    expect(n).toBeGreaterThan(0);
    expect(sim.stats()).toMatchObject({ logins: 2, liveTokens: 0, peakTokens: 1, logouts: 1 });
    expect(client.stats().logins).toBe(2); // one single-flight re-login for the three calls
  });

  it('a second 401 after the re-login surfaces as IikoAuthError; no seat is left', async () => {
    // TTL 0: every token is already expired when it is first used, so the re-login's token
    // fails too — deterministic, whatever the machine's load.
    const { sim, client } = await setup({ tokenTtlMs: 0 });
    const e = await rejection(client.session((s) => s.departments()));
    expect(e).toBeInstanceOf(IikoAuthError);
    expect(e.op).toBe('departments');
    await new Promise((r) => setTimeout(r, 5));
    expect(sim.stats()).toMatchObject({ logins: 2, liveTokens: 0 });
  });

  it('a failed logout keeps the token; the next session reuses it (no second seat) and releases it', async () => {
    const { sim, client } = await setup({ seats: 1 }, { retries: 1 });
    sim.setFaults({ status5xx: { op: 'logout', times: 2, status: 503 } });
    await client.session((s) => s.departments());
    expect(sim.stats()).toMatchObject({ liveTokens: 1, logins: 1, logouts: 0 });
    await client.session((s) => s.departments());
    expect(sim.stats()).toMatchObject({ liveTokens: 0, logins: 1, logouts: 1, refusedLogins: 0 });
  });

  it('accepts the server as origin, …/resto or …/resto/api', async () => {
    const { sim } = await setup();
    for (const baseUrl of [sim.url, `${sim.url}/`, `${sim.url}/resto`, `${sim.url}/resto/api/`]) {
      const c = newClient(sim, { baseUrl });
      expect(await c.session((s) => s.departments())).toHaveLength(DEPARTMENTS.length);
    }
  });
});

describe('IikoClient: retries', () => {
  it('retries 5xx answers and timeouts of reads', async () => {
    const { sim, client } = await setup({}, { timeoutMs: 300 });
    sim.setFaults({ status5xx: { op: 'olap', times: 3 } });
    const rows = await client.session((s) => s.sales('2026-01-20'));
    expect(rows.length).toBeGreaterThan(0);
    expect(client.stats().retries).toBe(3);
    sim.setFaults({ timeout: { op: 'departments', times: 1 } });
    expect(await client.session((s) => s.departments())).toHaveLength(DEPARTMENTS.length);
    expect(client.stats().retries).toBe(4);
    expect(sim.stats().liveTokens).toBe(0);
  });

  it('a signal drops a sales report in flight, or its retry back-off, at once; the session still logs out', async () => {
    const { sim, client } = await setup({}, { retryBaseMs: 30_000, olapTimeoutMs: 60_000 });
    // In flight: the report never answers (the fault holds the socket).
    sim.setFaults({ timeout: { op: 'olap' } });
    const inFlight = new AbortController();
    setTimeout(() => inFlight.abort(), 200);
    let t0 = Date.now();
    const a = await rejection(client.session((s) => s.sales('2026-01-20', { signal: inFlight.signal })));
    expect(a).toBeInstanceOf(TransportFailure);
    expect((a as unknown as TransportFailure).kind).toBe('aborted');
    expect(Date.now() - t0).toBeLessThan(1_500);
    // Backing off: 503, then a wait of up to 30 s (full jitter) before the retry.
    sim.setFaults({ status5xx: { op: 'olap', status: 503 } });
    const backingOff = new AbortController();
    setTimeout(() => backingOff.abort(), 300);
    t0 = Date.now();
    const b = await rejection(client.session((s) => s.sales('2026-01-20', { signal: backingOff.signal })));
    expect((b as unknown as TransportFailure).kind).toBe('aborted');
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(client.stats().retries).toBeGreaterThanOrEqual(1);
    expect(sim.stats().liveTokens).toBe(0);
    expect(sim.stats().logouts).toBe(2);
  });

  it('gives up after `retries` with the last error (kind http, status 503)', async () => {
    const { sim, client } = await setup({}, { retries: 2 });
    sim.setFaults({ status5xx: { op: 'departments', status: 503 } });
    const e = await rejection(client.session((s) => s.departments()));
    expect(e).toBeInstanceOf(IikoError);
    expect(e).toMatchObject({ status: 503, kind: 'http', attempts: 3 });
    expect(sim.stats().requests.departments).toBe(3);
    expect(sim.stats().liveTokens).toBe(0);
  });

  it('retries a login only when no token can have been issued (503/500, refused connection)', async () => {
    const { sim, client } = await setup();
    sim.setFaults({ status5xx: { op: 'auth', times: 1, status: 503 } });
    expect(await client.session((s) => s.departments())).toHaveLength(DEPARTMENTS.length);
    expect(sim.stats().requests.auth).toBe(2);

    // a proxy's 502: the outcome is unknown → not retried
    sim.setFaults({ status5xx: { op: 'auth', times: 1, status: 502 } });
    const e502 = await rejection(client.session((s) => s.departments()));
    expect(e502).toMatchObject({ status: 502, op: 'login' });
    expect(sim.stats().requests.auth).toBe(3);

    // nobody listening: the connection is refused, so nothing can have been issued → retried
    const url = sim.url;
    await sim.close();
    const down = new IikoClient({ name: 'down', baseUrl: url, login: 'admin', password: 'secret', retries: 2, retryBaseMs: 1 });
    clients.push(down);
    const refused = await rejection(down.session((s) => s.departments()));
    expect(refused).toMatchObject({ kind: 'network', op: 'login', attempts: 3 });
    expect(refused.message).toMatch(/ECONNREFUSED/);
    expect(down.stats()).toMatchObject({ requests: 3, retries: 2, logins: 0 });
  });

  it('does not retry a login that timed out or was cut off (a seat may be taken)', async () => {
    const { sim, client } = await setup({ seats: 2 }, { timeoutMs: 300 });
    sim.setFaults({ timeout: { op: 'auth', times: 1 } });
    const t = await rejection(client.session((s) => s.departments()));
    expect(t).toMatchObject({ kind: 'timeout', op: 'login' });
    expect(sim.stats().requests.auth).toBe(1);

    sim.setFaults({ truncateBody: { op: 'auth', times: 1 } });
    const cut = await rejection(client.session((s) => s.departments()));
    expect(cut).toMatchObject({ kind: 'network', op: 'login' });
    expect(sim.stats().requests.auth).toBe(2);
    expect(sim.stats().liveTokens).toBe(1); // leaked until it expires: the documented price of not retrying
  });

  it('retries truncated read answers (Content-Length not reached) without hanging', async () => {
    const { sim, client } = await setup();
    sim.setFaults({ truncateBody: { op: 'olap', times: 1 } });
    const t0 = performance.now();
    const rows = await client.session((s) => s.sales('2026-01-21'));
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(rows.length).toBeGreaterThan(0);
    expect(client.stats().retries).toBe(1);
  });
});

describe('IikoClient: malformed and hostile XML', () => {
  const cases = [
    [{ malformedXml: true }, 'malformed'],
    [{ hostileXml: 'entity-bomb' }, 'entities'],
    [{ hostileXml: 'external-entity' }, 'entities'],
    [{ hostileXml: 'huge' }, 'too_large'],
  ] as const;
  for (const [fault, problem] of cases) {
    it(`${JSON.stringify(fault)} → IikoXmlError '${problem}', not retried, the seat released`, async () => {
      const { sim, client } = await setup({ hugeXmlBytes: 8 * 1024 * 1024 }, { maxDepartmentsXmlBytes: 1024 * 1024 });
      sim.setFaults(fault);
      const e = await rejection(client.session((s) => s.departments()));
      expect(e).toBeInstanceOf(IikoXmlError);
      expect(e).toBeInstanceOf(IikoError);
      expect(e).toMatchObject({ problem, kind: 'xml', server: 'main', op: 'departments' });
      expect(sim.stats().requests.departments).toBe(1);
      expect(sim.stats()).toMatchObject({ liveTokens: 0, logouts: 1 });
      // the connection survives (or is replaced): the next session works
      sim.setFaults(undefined);
      expect(await client.session((s) => s.departments())).toEqual(DEPARTMENTS);
    });
  }

  it('stops reading a huge document at the default 50 MB cap', async () => {
    const { sim, client } = await setup({ hugeXmlBytes: 64 * 1024 * 1024, faults: { hostileXml: 'huge' } });
    const t0 = performance.now();
    const e = await rejection(client.session((s) => s.departments()));
    expect(e).toMatchObject({ problem: 'too_large' });
    console.log(`huge departments document refused after ${(performance.now() - t0).toFixed(0)} ms`);
    expect(sim.stats().liveTokens).toBe(0);
  });
});

describe('IikoClient: sales', () => {
  it('one day matches the generator: one row per (department, dish), amounts in kopecks', async () => {
    const { sim, client } = await setup();
    const gen = sim.data.sales as ReturnType<typeof generateSales>;
    const day = '2026-03-08';
    const rows = await client.session((s) => s.sales(day));
    const want = gen.day(day);
    expect(rows).toHaveLength(want.length);
    const byKey = new Map(rows.map((r) => [`${r.departmentId}/${r.dishId}`, r]));
    for (const w of want) {
      const r = byKey.get(`${w.departmentId}/${w.dishId}`)!;
      expect(r).toEqual({ date: day, departmentId: w.departmentId, dishId: w.dishId, dishCode: w.dishCode, dishName: w.dishName, quantity: w.quantity, amountMinor: Math.round(w.amount * 100) });
    }
    expect(await client.session((s) => s.sales('2025-12-31'))).toEqual([]);
    const bad = await rejection(client.session((s) => s.sales('2026-02-30')));
    expect(bad).toMatchObject({ kind: 'contract', op: 'sales' });
    expect(sim.stats().liveTokens).toBe(0);
  });

  it('fetches one OLAP day of 50 departments × 200 dishes quickly', async () => {
    const depts = generateDepartments({ count: 250, seed: 4 });
    const selling = depts.filter((d) => d.type === 'DEPARTMENT').slice(0, 50).map((d) => d.id);
    const gen = generateSales({ departments: selling, dishes: 200, from: '2025-01-01', to: '2025-12-31', seed: 8 });
    const sim = await startIikoSimulator({ latencyScale: 0, data: { departments: depts, sales: gen } });
    sims.push(sim);
    const client = newClient(sim);
    const ms = await client.session(async (s) => {
      await s.sales('2025-06-01'); // warm-up
      const t0 = performance.now();
      const rows = await s.sales('2025-06-02');
      const took = performance.now() - t0;
      expect(rows).toHaveLength(gen.day('2025-06-02').length);
      expect(rows.length).toBeGreaterThan(9_000);
      return took;
    });
    console.log(`IikoClient.sales: one day of 50 × 200 (generate + aggregate + serve + parse) in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(2000);
  });

  it('the demo servers answer exactly the demo seed sales', async () => {
    const [main] = demoIikoServers();
    const sim = await startIikoSimulator({ latencyScale: 0, data: main!.data, login: 'demo', password: 'demo' });
    sims.push(sim);
    const client = newClient(sim, { login: 'demo', password: 'demo' });
    const seed = demoIikoData()[0]!;
    const { depts, rows } = await client.session(async (s) => ({ depts: await s.departments(), rows: await s.sales('2026-09-15') }));
    expect(depts).toEqual(seed.departments.map(({ depth: _d, ...d }) => d));
    const want = seed.sales.filter((r) => r.date === '2026-09-15');
    expect(rows.map((r) => [r.departmentId, r.dishCode, r.dishName, r.quantity, r.amountMinor]).sort()).toEqual(
      want.map((r) => [r.departmentId, r.dishCode, r.dishName, r.quantity, r.amountMinor]).sort(),
    );
  });
});

describe('IikoClient: transport and secrecy', () => {
  it('reuses keep-alive connections across calls and sessions', async () => {
    const { sim, client } = await setup();
    for (let i = 0; i < 5; i++) await client.session(async (s) => (await s.departments(), await s.sales('2026-01-05')));
    const st = sim.stats();
    const requests = Object.values(st.requests).reduce((a, b) => a + b, 0);
    expect(requests).toBe(5 * 4);
    expect(st.connections).toBe(1);
  });

  it('never logs or reports the password, its SHA-1 or a token', async () => {
    let logged = '';
    const logger = createLogger('debug', new Writable({ write: (c, _e, cb) => ((logged += String(c)), cb()) }));
    const password = 'S3cret-Pa55';
    const hash = createHash('sha1').update(password).digest('hex');
    const sim = await startIikoSimulator({ latencyScale: 0, password, seats: 3, data: { departments: DEPARTMENTS, sales: [] } });
    sims.push(sim);
    const client = new IikoClient({ name: 'main', baseUrl: sim.url, login: 'admin', password, retries: 1, retryBaseMs: 1, timeoutMs: 500, olapTimeoutMs: 300 }, { logger });
    clients.push(client);
    const errors: string[] = [];
    await client.session(async (s) => {
      await s.departments();
      sim.setFaults({ status5xx: { op: 'departments', status: 500 } });
      errors.push((await rejection(s.departments())).message);
      sim.setFaults({ malformedXml: true });
      errors.push((await rejection(s.departments())).message);
      sim.setFaults({ timeout: { op: 'olap' } });
      errors.push((await rejection(s.sales('2026-01-01'))).message);
      sim.setFaults(undefined);
    });
    // a network failure: node-fetch's own message would carry the URL with ?key=
    const s2 = client.session(async (s) => {
      await s.departments();
      await sim.close();
      return s.departments();
    });
    const net = await rejection(s2);
    errors.push(net.message);
    expect(net.kind).toBe('network');
    const tokens = sim.issuedTokens();
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const all = logged + errors.join('\n');
    expect(logged).toContain('iiko request');
    expect(all).not.toContain(password);
    expect(all).not.toContain(hash);
    expect(all).not.toContain(hash.toUpperCase());
    for (const t of tokens) expect(all).not.toContain(t);
    if (process.env.IIKO_SHOW_LOG) console.log(all);
    expect(all).not.toMatch(/key=[0-9a-f]{8}-/);
  });
});
