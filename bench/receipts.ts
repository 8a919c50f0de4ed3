/**
 * Receipt benchmark: `npm run build && npm run bench:receipts`.
 *
 * 2,000 receipts (BENCH_RECEIPTS) are submitted over JSON-RPC by 16 concurrent clients
 * (BENCH_RECEIPT_CLIENTS) as fast as they can, to a real `companion serve` child process on the
 * embedded default (SQLite, WAL, synchronous=FULL; BENCH_RECEIPT_DB=postgres for PostgreSQL),
 * which prints them on the Shtrih-M emulator through a real pseudo-terminal (socat). The
 * emulator runs in a third process (this file with `--emulator`) so neither the clients nor the
 * server steal its event loop.
 *
 * The emulator models a register's execution time: per command, per item line and per closed
 * receipt (a real Shtrih spends roughly 10 ms on a status command, 150 ms printing an item line
 * and 800 ms closing a receipt: FN signature, totals, cut), scaled by BENCH_KKT_TIME_SCALE
 * (default 0.1: a register ten times faster than a real one, so the run takes minutes, not an
 * hour; the faster the register, the more our own overhead weighs, so the idle figure is
 * conservative). The pty itself costs time between commands that a real serial line does not
 * (two event loops and socat); that "link floor" is measured before the run and shown apart.
 *
 * Printed, measured in the same run:
 * - intake: receipts/s durably stored (the JSON-RPC answer comes after the commit), and the
 *   latency of receipts.create (p50/p99);
 * - end to end: first submission → last receipt fiscalised, and per receipt created → fiscalised;
 * - the register's idle time while a backlog exists: the time it waited for the middleware between
 *   command dialogues (host ACK of an answer → next byte from the host), over the backlog's wall
 *   time; target under 5 %. Executing and talking on the wire count as the register working.
 * Exits 1 when a receipt is lost or doubled (journal vs database), or the idle target is missed.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createKnex, type Knex } from '../src/db/knex';
import { openPtyPair } from '../src/device/pty';
import { attachEmulatorToSerial, ShtrihEmulator, type EmulatorTiming } from '../src/device/shtrih/emulator';
import { createShtrihRegister } from '../src/device/shtrih/register';

const BIN = path.join(__dirname, '..', '..', 'bin', 'companion.js');
const int = (name: string, dflt: number) => {
  const n = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

// ---------------------------------------------------------------------------------------------
// The emulator child

type EmuMsg = { op: 'stats' } | { op: 'close' };
interface EmuStats {
  busyMs: number;
  idleMs: number;
  /** Answers the host acknowledged: one per completed command dialogue. */
  dialogues: number;
  receipts: number;
  idleAfter: Record<string, number>;
  journal?: Array<{ fd: number; name: string; total: number }>;
}

if (process.argv[2] === '--emulator') {
  const devicePath = process.argv[3];
  const timing = JSON.parse(process.argv[4]) as EmulatorTiming;
  const emu = new ShtrihEmulator({ fnSerial: '9999078900002000', lastFiscalDocumentNumber: 0, shiftNumber: 1, shiftOpen: true, timing });
  void attachEmulatorToSerial(emu, devicePath).then((att) => {
    process.send!({ ready: true });
    process.on('message', (m: EmuMsg & { withJournal?: boolean }) => {
      if (m.op === 'stats') {
        const rs = emu.receipts();
        const st = emu.stats();
        const out: EmuStats = { busyMs: st.busyMs, idleMs: st.idleMs, dialogues: st.acksReceived, receipts: rs.length, idleAfter: st.idleAfter };
        if (m.withJournal) out.journal = rs.map((j) => ({ fd: j.fiscalDocumentNumber, name: j.items![0].name, total: j.totalMinor! }));
        process.send!(out);
      } else {
        void att.close().then(() => process.exit(0));
      }
    });
    process.on('disconnect', () => process.exit(0));
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

function ask(child: ChildProcess, msg: object): Promise<EmuStats> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as EmuStats));
    child.send(msg);
  });
}

function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the middleware.
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const on = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}:\n${out}`)));
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const N = int('BENCH_RECEIPTS', 2000);
  const CLIENTS = int('BENCH_RECEIPT_CLIENTS', 16);
  const scale = int('BENCH_KKT_TIME_SCALE', 0.1);
  const usePg = process.env.BENCH_RECEIPT_DB === 'postgres';
  const timing: EmulatorTiming = {
    commandMs: 10 * scale, itemMs: 150 * scale, closeMs: 800 * scale, zReportMs: 2000 * scale, xReportMs: 1500 * scale, openShiftMs: 1000 * scale,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-receipts-'));
  const pty = await openPtyPair();
  const emu = fork(__filename, ['--emulator', pty.devicePath, JSON.stringify(timing)], { stdio: 'inherit' });
  await new Promise((r) => emu.once('message', r));

  // The link floor: the register's wait between two commands when the host does nothing else
  // (pty + socat + two event loops), measured with the driver alone before the run.
  const floorMs = await (async () => {
    const reg = createShtrihRegister({ transport: { kind: 'serial', path: pty.hostPath } });
    await reg.open();
    await reg.state();
    const a = await ask(emu, { op: 'stats' });
    for (let i = 0; i < 100; i++) await reg.state();
    const b = await ask(emu, { op: 'stats' });
    await reg.close();
    return (b.idleMs - a.idleMs) / (b.dialogues - a.dialogues);
  })();

  const schema = `bench_receipts_${Date.now().toString(36)}`;
  const pgUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbEnv: Record<string, string> = usePg ? { DATABASE_URL: pgUrl, DATABASE_SCHEMA: schema } : { DATABASE_URL: `sqlite://${path.join(dir, 'companion.sqlite')}` };
  const env = { ...dbEnv, DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', KKT_PORT: pty.hostPath };
  const mk = spawn(process.execPath, [BIN, 'apikey', 'create', '--name', 'bench', '--scopes', 'receipts'], { env: { PATH: process.env.PATH ?? '', ...env } });
  let mkOut = '';
  mk.stdout.on('data', (d) => (mkOut += d));
  mk.stderr.on('data', (d) => (mkOut += d));
  await new Promise((r) => mk.on('close', r));
  const key = /(oc_\S+)/.exec(mkOut)?.[1];
  if (!key) throw new Error(`could not create an API key:\n${mkOut}`);
  const server = await startServer(env);
  const db: Knex = createKnex(usePg ? { client: 'postgres', connection: pgUrl, schema, poolMax: 2 } : { client: 'sqlite', connection: path.join(dir, 'companion.sqlite'), poolMax: 1 });

  console.log(`receipts bench: ${N} receipts, ${CLIENTS} clients, ${usePg ? 'PostgreSQL' : 'SQLite (WAL, synchronous=FULL)'}, emulator on a pty, ` +
    `register time scale ${scale} (command ${timing.commandMs} ms, item ${timing.itemMs} ms, close ${timing.closeMs} ms)`);

  const s0 = await ask(emu, { op: 'stats' });
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const client = async () => {
    while (next < N) {
      const i = next++;
      const body = JSON.stringify({
        jsonrpc: '2.0', id: i, method: 'receipts.create',
        params: {
          client_uuid: randomUUID(), tax_system: 'osn',
          items: [
            { name: `Bench receipt ${i}`, price_minor: 10_000 + i, quantity: 1, vat: 'vat22' },
            { name: 'Пакет', price_minor: 500, quantity: 1, vat: 'vat22' },
          ],
          payments: [{ type: 'electronic', amount_minor: 10_500 + i }],
        },
      });
      const s = performance.now();
      const res = await fetch(`${server.url}/jsonrpc`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
      const j = (await res.json()) as { result?: unknown; error?: unknown };
      if (!j.result) throw new Error(`receipts.create failed: ${JSON.stringify(j.error)}`);
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const intakeMs = performance.now() - t0;

  // Wait for the backlog to drain.
  let lastLog = performance.now();
  for (;;) {
    const [{ n }] = (await db('receipts').whereIn('status', ['queued', 'printing']).count({ n: '*' })) as Array<{ n: number | string }>;
    if (Number(n) === 0) break;
    if (performance.now() - lastLog > 10_000) {
      console.log(`  … ${n} receipts left`);
      lastLog = performance.now();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const e2eMs = performance.now() - t0;
  const final = await ask(emu, { op: 'stats', withJournal: true });
  const busyMs = final.busyMs - s0.busyMs;
  const idleMs = final.idleMs - s0.idleMs;

  const rows = (await db('receipts').select('status', 'fiscal_document_number', 'items', 'total_minor', 'created_at', 'updated_at')) as Array<{
    status: string; fiscalDocumentNumber: number; items: unknown; totalMinor: number; createdAt: string; updatedAt: string;
  }>;
  const perReceipt = rows.map((r) => Date.parse(String(r.updatedAt)) - Date.parse(String(r.createdAt))).sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  const journal = new Map(final.journal!.map((j) => [j.fd, j]));
  const bad = rows.filter((r) => {
    const j = journal.get(Number(r.fiscalDocumentNumber));
    const items = typeof r.items === 'string' ? JSON.parse(r.items) : r.items;
    return r.status !== 'fiscalised' || !j || j.name !== (items as Array<{ name: string }>)[0].name || j.total !== Number(r.totalMinor);
  });
  const idle = idleMs / e2eMs;
  const dialogues = final.dialogues - s0.dialogues;
  const floorTotal = floorMs * dialogues;

  console.log(`intake:     ${N} receipts stored in ${(intakeMs / 1000).toFixed(2)} s = ${Math.round(N / (intakeMs / 1000))} receipts/s ` +
    `(receipts.create p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms)`);
  console.log(`end to end: first submitted → last fiscalised ${(e2eMs / 1000).toFixed(2)} s; per receipt created → fiscalised p50 ${(pct(perReceipt, 50) / 1000).toFixed(2)} s, max ${(perReceipt.at(-1)! / 1000).toFixed(2)} s`);
  console.log(`register:   waited for the middleware ${(idleMs / 1000).toFixed(2)} s of ${(e2eMs / 1000).toFixed(2)} s with a backlog → idle ${(idle * 100).toFixed(1)} % ` +
    `(target < 5 %: ${idle < 0.05 ? 'PASS' : 'FAIL'}); executing ${(busyMs / 1000).toFixed(2)} s, the rest is the serial dialogue ` +
    `(${((e2eMs - idleMs - busyMs) / N).toFixed(1)} ms a receipt)`);
  console.log(`            of that idle time, ${(floorTotal / 1000).toFixed(2)} s is the link floor (${floorMs.toFixed(2)} ms between two commands with nothing else to do, ` +
    `× ${(dialogues / N).toFixed(1)} commands a receipt); the middleware's own share: ${(((idleMs - floorTotal) / e2eMs) * 100).toFixed(1)} %`);
  // Where the register waited: after which command's answer (ms a receipt), largest first.
  const after = Object.entries(final.idleAfter)
    .map(([code, ms]) => [code, (ms - (s0.idleAfter[code] ?? 0)) / N] as const)
    .filter(([, ms]) => ms >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  console.log(`            idle a receipt after each command's answer: ${after.map(([c, ms]) => `${c} ${ms.toFixed(2)} ms`).join(', ')}`);
  console.log(`exactly once: ${final.receipts} receipts in the register's journal, ${rows.length} in the database, ${bad.length} mismatched`);

  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  if (usePg) await db.raw(`drop schema if exists "${schema}" cascade`);
  await db.destroy();
  emu.send({ op: 'close' });
  await new Promise((r) => emu.once('exit', r));
  await pty.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (bad.length || final.receipts !== N || rows.length !== N || idle >= 0.05) process.exit(1);
}
