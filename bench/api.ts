/**
 * GraphQL and JSON-RPC throughput on PostgreSQL: `npm run build && npm run bench:api`.
 *
 * Starts the real middleware (createCompanion: Express, Apollo, the JSON-RPC bridge, knex on
 * PostgreSQL) in a private schema with the demo data copied into 20 full-size Logikal
 * projects, then drives it with autocannon (in a child process, see load.ts) with three ways
 * of getting the same page of data — 20 projects → phases → elevations with their glass:
 *
 *   graphql        one GraphQL query, nested (per-request DataLoaders: one statement per level)
 *   jsonrpc-batch  one JSON-RPC batch of 20 projects.get(with_parts) — the only single JSON-RPC
 *                  request that returns glass; it also returns every column and the parts lists
 *   jsonrpc-n+1    what a client without nesting does: projects.list, projects.get per project,
 *                  elevations.get per elevation (1 + N + N×M sequential calls)
 *
 * Before any load, each scenario's page is fetched once on the idle server (the probe), to count
 * its SQL statements (knex's `query` event, without the per-request API-key lookup) and its
 * response bytes, and to check that every scenario returns the same projects, elevations and
 * glass. The table adds the server's CPU time per page, which other load on the box skews less.
 *
 * Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
 * BENCH_DURATION_S (10), BENCH_WARMUP_S (2), BENCH_CONNECTIONS (10), BENCH_PROJECTS (20),
 * BENCH_SCENARIOS (comma-separated subset of the names above; default all).
 * Exits non-zero when any scenario saw errors, timeouts, non-2xx responses or error bodies.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createCompanion, type Companion } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createApiKey } from '../src/services/api-keys';
import { seedDemo } from '../seeds';
import { replicateDemoProject } from './data';
import { describeDb, makeBenchDb, type BenchDb } from './db';
import type { LoadJob, LoadRequest, LoadResult } from './load';

// ---------------------------------------------------------------------------------------------
// Settings

function intEnv(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in ${min}..${max} (got ${JSON.stringify(raw)})`);
  return n;
}

const DURATION_S = intEnv('BENCH_DURATION_S', 10, 1, 3600);
const WARMUP_S = intEnv('BENCH_WARMUP_S', 2, 0, 600);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 10, 1, 1000);
/**
 * Projects per page: the demo's DOS22309 plus PROJECTS − 1 copies of it. At most 20: at 20 the
 * GraphQL query already costs 48,461 of the default complexity budget of 50,000.
 */
const PROJECTS = Math.round(intEnv('BENCH_PROJECTS', 20, 1, 20));
const ALL_SCENARIOS = ['graphql', 'jsonrpc-batch', 'jsonrpc-n+1'] as const;
type ScenarioName = (typeof ALL_SCENARIOS)[number];
const SELECTED: ScenarioName[] = (() => {
  const raw = process.env.BENCH_SCENARIOS;
  if (!raw) return [...ALL_SCENARIOS];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(ALL_SCENARIOS as readonly string[]).includes(n)) throw new Error(`BENCH_SCENARIOS: unknown scenario ${n} (known: ${ALL_SCENARIOS.join(', ')})`);
  }
  return names as ScenarioName[];
})();

/** The issue's query: projects → phases → elevations with glass. */
const GRAPHQL_QUERY =
  `{ projects(first: ${PROJECTS}) { edges { node { name phases { name elevations { name width height glass { glassId name } } } } } } }`;

// ---------------------------------------------------------------------------------------------
// One page of data, fetched once outside the load run

/** What a page holds, counted from the responses: the same for every scenario, or the comparison is void. */
interface Shape {
  projects: number;
  phases: number;
  elevations: number;
  glass: number;
  /** Parts lines, which only the JSON-RPC routes return (GraphQL was not asked for them). */
  parts: number;
}

interface Probe {
  /** The page as autocannon replays it (one entry per HTTP request). */
  requests: LoadRequest[];
  /** SQL statements the page cost, without the API-key lookups. */
  statements: number;
  /** Response body bytes of the whole page. */
  bytes: number;
  /** Body length in characters (single-request pages), for autocannon's body check. */
  chars?: number;
  shape: Shape;
  errorMarker: string;
}

interface Scenario {
  name: ScenarioName;
  /** What one HTTP request asks for, printed under the table. */
  fetches: string;
  probe(h: Harness): Promise<Probe>;
}

interface Harness {
  url: string;
  key: string;
  companion: Companion;
  /** Projects on the page, in the order both APIs list them (name, id). */
  projectIds: number[];
}

class ProbeError extends Error {}

async function post(h: Harness, req: LoadRequest): Promise<{ text: string; json: any }> {
  const res = await fetch(`${h.url}${req.path}`, {
    method: req.method,
    headers: { authorization: `Bearer ${h.key}`, 'content-type': 'application/json' },
    body: req.body,
  });
  const text = await res.text();
  if (res.status !== 200) throw new ProbeError(`${req.path} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  return { text, json: JSON.parse(text) };
}

/** Runs `fn` while counting the SQL statements knex sends, leaving out the API-key lookups. */
async function countStatements<T>(companion: Companion, fn: () => Promise<T>): Promise<{ value: T; statements: number }> {
  let statements = 0;
  const onQuery = (q: { sql: string }) => {
    if (!/api_clients/.test(q.sql)) statements += 1;
  };
  companion.db.on('query', onQuery);
  try {
    const value = await fn();
    return { value, statements };
  } finally {
    companion.db.off('query', onQuery);
  }
}

/**
 * Waits until the server has nothing in flight: no pool connection in use or awaited and no
 * SQL statement for `quietMs`. autocannon stops at the end of its run without waiting for the
 * answers still being computed, so without this the tail of one run would bleed into the next
 * (into its throughput, and into a probe's statement count).
 */
async function waitForIdle(companion: Companion, quietMs = 300, timeoutMs = 60_000): Promise<void> {
  const pool = (companion.db.client as { pool?: { numUsed(): number; numPendingAcquires(): number } }).pool;
  let last = Date.now();
  const onQuery = () => {
    last = Date.now();
  };
  companion.db.on('query', onQuery);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = pool ? pool.numUsed() + pool.numPendingAcquires() > 0 : false;
      if (busy) last = Date.now();
      else if (Date.now() - last >= quietMs) return;
      if (Date.now() > deadline) throw new Error('the server did not become idle after a load run');
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    companion.db.off('query', onQuery);
  }
}

/** Counts HTTP requests the server has finished (or seen aborted), for CPU time per request. */
function countRequests(companion: Companion): () => number {
  let done = 0;
  companion.httpServer.on('request', (_req, res) => res.once('close', () => (done += 1)));
  return () => done;
}

function rpcBody(id: number, method: string, params: Record<string, unknown>) {
  return { jsonrpc: '2.0', id, method, params };
}

/** Fails on a JSON-RPC error object (HTTP 200 carries those too). */
function rpcResult(json: any, what: string): any {
  if (json?.error) throw new ProbeError(`${what} failed: ${JSON.stringify(json.error)}`);
  return json.result;
}

function shapeOfTrees(projects: Array<{ phases: Array<{ elevations: Array<{ glass?: unknown[]; parts?: unknown[] }> }> }>): Shape {
  const s: Shape = { projects: projects.length, phases: 0, elevations: 0, glass: 0, parts: 0 };
  for (const p of projects) {
    s.phases += p.phases.length;
    for (const ph of p.phases) {
      s.elevations += ph.elevations.length;
      for (const e of ph.elevations) {
        s.glass += e.glass?.length ?? 0;
        s.parts += e.parts?.length ?? 0;
      }
    }
  }
  return s;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'graphql',
    fetches: `POST /graphql ${GRAPHQL_QUERY}`,
    async probe(h) {
      const req: LoadRequest = { method: 'POST', path: '/graphql', body: JSON.stringify({ query: GRAPHQL_QUERY }) };
      const { value, statements } = await countStatements(h.companion, () => post(h, req));
      if (value.json.errors) throw new ProbeError(`GraphQL errors: ${JSON.stringify(value.json.errors).slice(0, 500)}`);
      const nodes = value.json.data.projects.edges.map((e: any) => e.node);
      return {
        requests: [req], statements, bytes: Buffer.byteLength(value.text), chars: value.text.length,
        shape: shapeOfTrees(nodes), errorMarker: '"errors":',
      };
    },
  },
  {
    name: 'jsonrpc-batch',
    fetches:
      `POST /jsonrpc, a batch of ${PROJECTS} × projects.get {id, with_parts: true}: the same trees with every column ` +
      'of project/phase/elevation, and each elevation’s parts list besides its glass (JSON-RPC has no field selection)',
    async probe(h) {
      const batch = h.projectIds.map((id, i) => rpcBody(i + 1, 'projects.get', { id, with_parts: true }));
      const req: LoadRequest = { method: 'POST', path: '/jsonrpc', body: JSON.stringify(batch) };
      const { value, statements } = await countStatements(h.companion, () => post(h, req));
      if (!Array.isArray(value.json) || value.json.length !== batch.length) throw new ProbeError('the batch did not answer every call');
      const trees = value.json.map((a: any, i: number) => rpcResult(a, `projects.get #${i + 1}`));
      return {
        requests: [req], statements, bytes: Buffer.byteLength(value.text), chars: value.text.length,
        shape: shapeOfTrees(trees), errorMarker: '"error":{',
      };
    },
  },
  {
    name: 'jsonrpc-n+1',
    fetches:
      `1 + N + N×M sequential POST /jsonrpc calls per page: projects.list {first: ${PROJECTS}}, then projects.get ` +
      '{id, with_parts: false} per project, then elevations.get {id} per elevation (which returns glass and parts)',
    async probe(h) {
      // Walks the API the way a client without nesting has to, recording each call for replay.
      const requests: LoadRequest[] = [];
      let bytes = 0;
      const call = async (method: string, params: Record<string, unknown>) => {
        const req: LoadRequest = { method: 'POST', path: '/jsonrpc', body: JSON.stringify(rpcBody(requests.length + 1, method, params)) };
        requests.push(req);
        const { text, json } = await post(h, req);
        bytes += Buffer.byteLength(text);
        return rpcResult(json, method);
      };
      const { value: trees, statements } = await countStatements(h.companion, async () => {
        const list = await call('projects.list', { first: PROJECTS });
        const out: any[] = [];
        for (const p of list.items as Array<{ id: number }>) {
          const tree = await call('projects.get', { id: p.id, with_parts: false });
          for (const ph of tree.phases) {
            const full = [];
            for (const e of ph.elevations as Array<{ id: number }>) full.push(await call('elevations.get', { id: e.id }));
            ph.elevations = full;
          }
          out.push(tree);
        }
        return out;
      });
      return { requests, statements, bytes, shape: shapeOfTrees(trees), errorMarker: '"error":{' };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Load runs (autocannon in a child process)

let activeChild: ChildProcess | undefined;

function runLoadInChild(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'load.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    activeChild = child;
    let settled = false;
    child.once('message', (m: { ok: boolean; result?: LoadResult; error?: string }) => {
      settled = true;
      if (m.ok && m.result) resolve(m.result);
      else reject(new Error(`load generator failed: ${m.error}`));
    });
    child.once('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    child.once('exit', (code, signal) => {
      if (activeChild === child) activeChild = undefined;
      if (!settled) reject(new Error(`load generator exited (${signal ?? code}) without a result`));
      settled = true;
    });
    child.send(job);
  });
}

interface Measured {
  scenario: Scenario;
  probe: Probe;
  warmup?: LoadResult;
  result: LoadResult;
  /** Server process CPU time (main thread, GC and libuv threads) per HTTP request of the main run. */
  cpuMsPerRequest: number;
}

/** Everything that makes a run invalid: load errors, timeouts, non-2xx, error bodies. */
function problems(r: LoadResult): string[] {
  const out: string[] = [];
  if (r.non2xx) out.push(`${r.non2xx} non-2xx`);
  // autocannon's `errors` include its timeouts.
  if (r.errors) out.push(`${r.errors} errors${r.timeouts ? ` (${r.timeouts} of them timeouts)` : ''}`);
  if (r.mismatches) out.push(`${r.mismatches} error bodies`);
  if (r.requests === 0) out.push('no request completed');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kb = (bytes: number) => (bytes >= 1024 * 1024 ? `${fmt(bytes / 1024 / 1024, 2)} MB` : `${fmt(bytes / 1024, 1)} KB`);

function table(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, c) => (rightAligned[c] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

function report(measured: Measured[]): string {
  const head = [
    'scenario', 'HTTP req/s', 'pages/s', 'p50 ms', 'p99 ms', 'req/page', 'SQL/req', 'SQL/page', 'bytes/resp', 'bytes/page',
    'CPU ms/page', 'non-2xx', 'errors',
  ];
  const rows = measured.map(({ scenario, probe, result, cpuMsPerRequest }) => {
    const perPage = probe.requests.length;
    return [
      scenario.name,
      fmt(result.rps, 1),
      fmt(result.rps / perPage, perPage > 1 ? 2 : 1),
      fmt(result.p50, 1),
      fmt(result.p99, 1),
      fmt(perPage),
      fmt(probe.statements / perPage, perPage > 1 ? 1 : 0),
      fmt(probe.statements),
      kb(probe.bytes / perPage),
      kb(probe.bytes),
      fmt(cpuMsPerRequest * perPage, 1),
      fmt(result.non2xx),
      fmt(result.errors + result.mismatches),
    ];
  });
  return table([head, ...rows], head.map((_, i) => i > 0));
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const started = Date.now();
  const bench = makeBenchDb();
  let companion: Companion | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      activeChild?.kill('SIGKILL');
      try {
        await companion?.stop();
      } catch (e) {
        console.error('warning: stopping the server failed:', e);
      }
      try {
        await bench.drop();
      } catch (e) {
        // Reported rather than thrown, so that it does not hide the error that got us here.
        console.error(`warning: could not drop schema ${bench.schema}: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
      }
    })());
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: stopping, dropping schema ${bench.schema}`);
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.log(`odoo-companion API benchmark — Node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'})`);
    console.log(`database: ${describeDb(bench)}; NODE_ENV=${process.env.NODE_ENV ?? '(unset)'}`);
    const [load1] = os.loadavg();
    if (load1! > 0.5) {
      console.log(`note: load average ${fmt(load1!, 2)} before the run: something else is using the CPUs, figures will be low and noisy`);
    }
    const config = loadConfig({ ...bench.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' });
    companion = await createCompanion(config, { logger: createLogger('silent') });
    await seedDemo(companion.db);
    const copies = await replicateDemoProject(companion.db, PROJECTS - 1);
    // Fresh tables have no planner statistics yet; autovacuum would get to them mid-run.
    await companion.db.raw('ANALYZE');
    const { key } = await createApiKey(companion.services, { name: 'bench admin', scopes: ['admin'] });
    const url = await companion.listen();
    const projectIds = ((await companion.db('projects').orderBy([{ column: 'name' }, { column: 'id' }]).limit(PROJECTS).select('id')) as Array<{ id: number }>).map((r) => r.id);
    const h: Harness = { url, key, companion, projectIds };
    // The first request with a new key also records its use; keep that write out of every probe.
    await post(h, { method: 'POST', path: '/graphql', body: JSON.stringify({ query: '{ __typename }' }) });
    console.log(
      `data: demo seed + ${copies.projects} copies of DOS22309 (+${fmt(copies.elevations)} elevations, +${fmt(copies.glass)} glass, +${fmt(copies.parts)} parts lines); ` +
        `pool max ${config.database.poolMax}; ready in ${fmt((Date.now() - started) / 1000, 1)} s`,
    );
    console.log(`load: autocannon, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per scenario, in a child process\n`);

    // Every probe runs first, on an idle server: one page each, for statements, bytes and data checks.
    const probed: Array<{ scenario: Scenario; probe: Probe }> = [];
    for (const scenario of SCENARIOS.filter((s) => SELECTED.includes(s.name))) {
      const probe = await scenario.probe(h);
      const first = probed[0]?.probe.shape;
      if (first && (first.projects !== probe.shape.projects || first.elevations !== probe.shape.elevations || first.glass !== probe.shape.glass)) {
        throw new ProbeError(`${scenario.name} returns different data: ${JSON.stringify(probe.shape)} vs ${JSON.stringify(first)}`);
      }
      probed.push({ scenario, probe });
    }

    const handled = countRequests(companion);
    const measured: Measured[] = [];
    for (const { scenario, probe } of probed) {
      const job = (durationS: number): LoadJob => ({
        url, durationS, connections: CONNECTIONS, requests: probe.requests, errorMarker: probe.errorMarker,
        expectedChars: probe.requests.length === 1 ? probe.chars : undefined,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
      process.stdout.write(
        `${scenario.name}: ${probe.requests.length} request(s)/page, ${probe.statements} SQL statements/page, ${kb(probe.bytes)}/page; running… `,
      );
      await waitForIdle(companion);
      const warmup = WARMUP_S > 0 ? await runLoadInChild(job(WARMUP_S)) : undefined;
      await waitForIdle(companion);
      const cpu0 = process.cpuUsage();
      const handled0 = handled();
      const result = await runLoadInChild(job(DURATION_S));
      await waitForIdle(companion);
      const cpu = process.cpuUsage(cpu0);
      const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / Math.max(1, handled() - handled0);
      console.log(`${fmt(result.rps, 1)} req/s`);
      measured.push({ scenario, probe, warmup, result, cpuMsPerRequest });
    }

    const shape = measured[0]?.probe.shape;
    const parts = measured.find((m) => m.probe.shape.parts)?.probe.shape.parts;
    console.log('');
    if (shape) {
      console.log(
        `one page = ${shape.projects} projects, ${shape.phases} phases, ${shape.elevations} elevations, ${shape.glass} glass lines` +
          (measured.length > 1 ? ' in every scenario' : '') +
          (parts ? `; the JSON-RPC routes also return ${fmt(parts)} parts lines and every column` : ''),
      );
    }
    console.log('');
    console.log(report(measured));
    console.log('');
    for (const m of measured) console.log(`  ${m.scenario.name}: ${m.scenario.fetches}`);
    console.log('');
    const legend = [
      'req/s: mean over the run; pages/s = req/s ÷ req/page; p50/p99: latency of one HTTP request;',
      'SQL: statements per request and per page, without the API-key lookup (one more per HTTP request);',
      'bytes: response bodies; CPU ms/page: the server process’s CPU time (all its threads) per page, which other',
      'load on the machine inflates less than it deflates req/s; errors: connection errors, timeouts, bodies carrying an error.',
      'Reference (docs §2.3: same class of 2-core box, PostgreSQL, 10 connections, 20 → 5 → lines, ~23 KB per response):',
      'naive resolvers ≈113 req/s with 121 statements, dataloader ≈196 req/s with 3, PostGraphile ≈500–700 req/s with 1.',
    ];
    for (const l of legend) console.log(`  ${l}`);

    let failed = false;
    for (const m of measured) {
      const bad = [...problems(m.result), ...(m.warmup ? problems(m.warmup).map((p) => `${p} during warm-up`) : [])];
      if (bad.length) {
        failed = true;
        console.error(`FAIL ${m.scenario.name}: ${bad.join(', ')}`);
      }
    }
    console.log(`\ntotal ${fmt((Date.now() - started) / 1000, 1)} s`);
    return failed ? 1 : 0;
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

main().then(
  (code) => process.exit(code || Number(process.exitCode ?? 0)),
  (e: unknown) => {
    console.error(e instanceof ProbeError ? `\nFAIL: ${e.message}` : e);
    process.exit(1);
  },
);
