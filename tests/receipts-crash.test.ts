/**
 * The exactly-once promise under SIGKILL. A real `companion serve` child process accepts a burst
 * of receipts over JSON-RPC and prints them on the Shtrih emulator through a real
 * pseudo-terminal (socat); the test kills it with SIGKILL at random moments at least 20 times,
 * restarting it each time, while a client keeps submitting (and resubmitting what got no
 * answer, with the same client UUID, as Odoo does). At the end every receipt must be
 * fiscalised exactly once: the emulator's journal (what the register made) and the database
 * (what the middleware says it made) must agree document for document. On SQLite (the embedded
 * default, WAL with synchronous=FULL) and on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createKnex, type Knex } from '../src/db/knex';
import { openPtyPair, type PtyPair } from '../src/device/pty';
import { attachEmulatorToSerial, ShtrihEmulator, type SerialAttachment } from '../src/device/shtrih/emulator';
import { Rng } from '../src/util/prng';
import { runCli, startServe } from './helpers/cli';
import { DB_KINDS, makeTestDb } from './helpers/db';

const RECEIPTS = 150;
const KILLS = 20;

// Both databases side by side (each run has its own pty, emulator, server and database):
// SQLite (WAL, synchronous=FULL) on the embedded default, PostgreSQL in production.
describe('receipts survive SIGKILL (real pty)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it.concurrent.each(DB_KINDS)(`%s: every accepted receipt is fiscalised exactly once after ${KILLS} kills`, async (kind) => {
    const testDb = makeTestDb(kind);
    cleanups.push(() => testDb.drop());
    const rng = new Rng('crash-test');
    const pty: PtyPair = await openPtyPair();
    cleanups.push(() => pty.close());
    // A printer that takes ~100 ms a receipt, so kills land mid-receipt.
    const emu = new ShtrihEmulator({ fnSerial: '9999078900000777', lastFiscalDocumentNumber: 500, shiftNumber: 3, shiftOpen: true, timing: { commandMs: 2, itemMs: 15, closeMs: 60 } });
    const attachment: SerialAttachment = await attachEmulatorToSerial(emu, pty.devicePath);
    cleanups.push(() => attachment.close());
    const env = {
      ...testDb.env, LOG_LEVEL: 'warn',
      KKT_PORT: pty.hostPath, KKT_TIMEOUT_SCALE: '0.2', KKT_BREAKER_OPEN_MS: '100', KKT_OPERATOR_RETRY_MS: '100',
    };
    const mig = await runCli(['migrate'], env);
    expect(mig.code, mig.stderr).toBe(0);
    const made = await runCli(['apikey', 'create', '--name', 'pos', '--scopes', 'receipts'], env);
    const key = /(oc_\S+)/.exec(made.stdout)![1];

    let server = await startServe([], env);
    // A second connection, as an operator's query tool would have: it sees only committed rows.
    const db: Knex = createKnex({ ...testDb.config, poolMax: 1 });
    cleanups.push(() => db.destroy());
    const count = async (statuses: string[]) =>
      Number(((await db('receipts').whereIn('status', statuses).count({ n: '*' })) as Array<{ n: number | string }>)[0].n);

    // The client: submits every receipt until it has an answer, a few at a time, paced.
    const pending = Array.from({ length: RECEIPTS }, (_, i) => ({ i, uuid: randomUUID() }));
    const accepted = new Map<string, number>();
    const submitOne = async (r: { i: number; uuid: string }) => {
      const res = await fetch(`${server.url}/jsonrpc`, {
        method: 'POST',
        signal: AbortSignal.timeout(3000),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          jsonrpc: '2.0', id: r.i, method: 'receipts.create',
          params: {
            client_uuid: r.uuid, tax_system: 'usn_income',
            items: [{ name: `Чек №${r.i}`, price_minor: 1000 + r.i, quantity: 1, vat: 'none' }],
            payments: [{ type: 'cash', amount_minor: 1000 + r.i }],
          },
        }),
      });
      const body = (await res.json()) as { result?: { receipt: { id: number } }; error?: unknown };
      if (!body.result) throw new Error(JSON.stringify(body.error));
      accepted.set(r.uuid, body.result.receipt.id);
    };
    const submitter = (async () => {
      const queue = [...pending];
      const worker = async () => {
        while (queue.length) {
          const r = queue.shift()!;
          try {
            await submitOne(r);
            await new Promise((res) => setTimeout(res, 40));
          } catch {
            queue.push(r); // no answer (the server died): send the same UUID again later
            await new Promise((res) => setTimeout(res, 50));
          }
        }
      };
      await Promise.all([worker(), worker()]);
    })();

    let midReceipt = 0;
    for (let k = 0; k < KILLS; k++) {
      await new Promise((res) => setTimeout(res, rng.int(100, 700)));
      server.child.kill('SIGKILL');
      await server.exited;
      if ((await count(['printing'])) > 0) midReceipt++;
      server = await startServe([], env);
    }
    await submitter;
    expect(accepted.size).toBe(RECEIPTS);

    // Let the last process drain the queue.
    const until = Date.now() + 60_000;
    for (;;) {
      const left = await count(['queued', 'printing']);
      if (left === 0) break;
      if (Date.now() > until) throw new Error(`${left} receipts still not printed`);
      await new Promise((res) => setTimeout(res, 100));
    }
    server.child.kill('SIGTERM');
    await server.exited;

    // The knex instance maps columns to camelCase (knexSnakeCaseMappers).
    const rows = (await db('receipts').orderBy('id').select('id', 'clientUuid', 'status', 'fiscalDocumentNumber', 'totalMinor', 'items', 'fiscalSign')).map((r) => ({
      id: Number(r.id), client_uuid: String(r.clientUuid), status: String(r.status), fd: Number(r.fiscalDocumentNumber),
      total: Number(r.totalMinor), items: (typeof r.items === 'string' ? JSON.parse(r.items) : r.items) as Array<{ name: string }>, fiscal_sign: String(r.fiscalSign),
    }));
    const outcomes = (await db('receiptAttempts').groupBy('outcome').select('outcome').count({ n: '*' })) as Array<{ outcome: string; n: number | string }>;
    const journal = emu.receipts();
    console.log(
      `crash test (${kind}): ${KILLS} kills, ${midReceipt} while a receipt was being printed; attempts by outcome ${JSON.stringify(Object.fromEntries(outcomes.map((o) => [o.outcome, Number(o.n)])))}; ` +
        `${journal.length} receipts in the register's journal, ${rows.length} in the database`,
    );

    // Nothing lost, nothing doubled: one row per UUID, every one fiscalised…
    expect(rows).toHaveLength(RECEIPTS);
    expect(new Set(rows.map((r) => r.client_uuid))).toEqual(new Set(pending.map((p) => p.uuid)));
    expect(rows.filter((r) => r.status !== 'fiscalised')).toEqual([]);
    // …and the register made exactly those documents, one each.
    expect(journal).toHaveLength(RECEIPTS);
    const byFd = new Map(journal.map((j) => [j.fiscalDocumentNumber, j]));
    expect(byFd.size).toBe(RECEIPTS);
    for (const r of rows) {
      const j = byFd.get(r.fd);
      expect(j, `receipt ${r.id} claims FD ${r.fd}`).toBeDefined();
      expect(j!.items![0].name).toBe(r.items[0].name);
      expect(j!.totalMinor).toBe(r.total);
      expect(String(j!.fiscalSign)).toBe(r.fiscal_sign);
    }
    // The kills did land inside receipts (otherwise this test would prove little).
    expect(midReceipt).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
