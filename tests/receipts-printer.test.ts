/**
 * The receipt printer end to end: receipts submitted over JSON-RPC/GraphQL, printed by the
 * worker through the real Shtrih driver on the emulator (in memory here; the pty and crash
 * tests put a real pseudo-terminal in between), on both databases. What the register made
 * (its journal) is compared with what the database says, receipt by receipt.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { openConfiguredRegister } from '../src/device/open-register';
import { ShtrihEmulator } from '../src/device/shtrih/emulator';
import { DB_KINDS, type DbKind } from './helpers/db';
import { gql, rpc, startTestServer, type TestServer } from './helpers/server';

const FAST_ENV = {
  KKT_TIMEOUT_SCALE: '0.05', // 25 ms control-byte timeout: an unplugged register is noticed fast
  KKT_BREAKER_FAILURES: '2',
  KKT_BREAKER_OPEN_MS: '150',
  KKT_OPERATOR_RETRY_MS: '100',
};

interface Rig {
  s: TestServer;
  emu: ShtrihEmulator;
  call(method: string, params?: unknown): Promise<any>;
  submit(over?: Record<string, unknown>): Promise<any>;
  waitFor(pred: () => Promise<boolean>, what: string, ms?: number): Promise<void>;
  waitStatus(id: number, status: string, ms?: number): Promise<any>;
}

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.s.close();
  rig = null;
});

async function setup(db: DbKind, env: Record<string, string> = {}, emuOpts: ConstructorParameters<typeof ShtrihEmulator>[0] = {}): Promise<Rig> {
  const emu = new ShtrihEmulator({ fnSerial: '9999078900000001', lastFiscalDocumentNumber: 100, shiftNumber: 7, shiftOpen: true, ...emuOpts });
  const s = await startTestServer({
    db,
    seed: false,
    env: { ...FAST_ENV, ...env },
    register: (config, logger) => openConfiguredRegister(config.kkt, logger, { kind: 'memory', device: emu })!,
  });
  const call = async (method: string, params?: unknown) => {
    const body = (await rpc(s.url, s.adminKey, { jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) })).body;
    if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
    return body.result;
  };
  const waitFor = async (pred: () => Promise<boolean>, what: string, ms = 10_000) => {
    const until = Date.now() + ms;
    while (!(await pred())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  rig = {
    s, emu, call, waitFor,
    submit: async (over = {}) =>
      (await call('receipts.create', {
        client_uuid: randomUUID(),
        tax_system: 'osn',
        items: [
          { name: 'Кофе в зёрнах, 250 г', price_minor: 89_000, quantity: 2, vat: 'vat22' },
          { name: 'Молоко 3,2 %, 1 л', price_minor: 12_900, quantity: 1, vat: 'vat10', unit: 'piece' },
        ],
        payments: [{ type: 'cash', amount_minor: 200_000 }],
        ...over,
      })).receipt,
    waitStatus: async (id: number, status: string, ms?: number) => {
      let last: any;
      await waitFor(async () => (last = await call('receipts.get', { id })).status === status, `receipt ${id} ${status} (is ${last?.status}: ${last?.last_error})`, ms);
      return last;
    },
  };
  return rig;
}

describe.each(DB_KINDS)('receipt printer on %s', (db) => {
  it('prints queued receipts in order, exactly as submitted, once each', async () => {
    const r = await setup(db);
    const subs = [];
    for (let i = 0; i < 5; i++) {
      subs.push(await r.submit({ items: [{ name: `Товар №${i + 1}`, price_minor: 10_000 + i, quantity: 1.5, vat: i % 2 ? 'vat10' : 'vat22' }], payments: [{ type: 'electronic', amount_minor: Math.round((10_000 + i) * 1.5) }] }));
    }
    const done = [];
    for (const sub of subs) done.push(await r.waitStatus(sub.id, 'fiscalised'));
    const journal = r.emu.receipts();
    expect(journal).toHaveLength(5);
    // In id order, consecutive fiscal document numbers, each matching its journal entry.
    expect(done.map((d) => d.fiscal_document_number)).toEqual([101, 102, 103, 104, 105]);
    for (const d of done) {
      const j = journal.find((e) => e.fiscalDocumentNumber === d.fiscal_document_number)!;
      expect(j.totalMinor).toBe(d.total_minor);
      expect(j.items!.map((it) => it.name)).toEqual(d.items.map((it: any) => it.name));
      expect(j.items![0].quantityMicro).toBe(1_500_000);
      expect(String(j.fiscalSign)).toBe(d.fiscal_sign);
      expect(d).toMatchObject({ shift_number: 7, fn_serial: '9999078900000001', attempt_count: 1, last_error: null });
      expect(d.attempts).toEqual([expect.objectContaining({ outcome: 'ok', expected_fiscal_document_number: d.fiscal_document_number })]);
    }
    expect(journal[0].payments![1]).toBe(15_000); // electronic → slot 2
  });

  it('keeps accepting while the register is unplugged and drains the backlog in order when it is back', async () => {
    const r = await setup(db);
    r.emu.unplug();
    const subs = [];
    for (let i = 0; i < 4; i++) subs.push(await r.submit());
    await r.waitFor(async () => (await r.call('kkt.status')).state === 'offline', 'register offline');
    const st = await r.call('kkt.status');
    expect(st.breaker.state).not.toBe('closed');
    expect(st.queue.queued).toBe(4);
    expect(st.last_error.text).toBeTruthy();
    // The breaker spaces the attempts: far fewer tries than a busy loop would make.
    subs.push(await r.submit()); // intake is unaffected
    r.emu.replug();
    const done = [];
    for (const sub of subs) done.push(await r.waitStatus(sub.id, 'fiscalised'));
    expect(done.map((d) => d.fiscal_document_number)).toEqual([101, 102, 103, 104, 105]);
    expect(r.emu.receipts()).toHaveLength(5);
    expect((await r.call('kkt.status')).state).toBe('ready');
  });

  it('dead-letters what the register refuses, with its code; retry after the fix prints it once', async () => {
    // The register's firmware lacks the 22 % code the configuration sends (a wrong KKT_MODEL).
    const r = await setup(db);
    const saved = r.emu.vatCodes.vat22;
    delete r.emu.vatCodes.vat22;
    const bad = await r.submit();
    const ok = await r.submit({ items: [{ name: 'Хлеб', price_minor: 5990, quantity: 1, vat: 'vat10' }], payments: [{ type: 'cash', amount_minor: 5990 }] });
    const dead = await r.waitStatus(bad.id, 'dead');
    expect(dead.last_error_code).toBe(0x33);
    expect(dead.last_error).toMatch(/33h/);
    expect(dead.attempts[0]).toMatchObject({ outcome: 'device_error', device_error_code: 0x33 });
    // The queue goes on behind a dead letter.
    expect((await r.waitStatus(ok.id, 'fiscalised')).fiscal_document_number).toBe(101);
    expect(r.emu.receipts()).toHaveLength(1);
    expect((await r.call('receipts.list', { status: 'dead' })).items.map((x: any) => x.id)).toEqual([bad.id]);
    r.emu.vatCodes.vat22 = saved;
    await r.call('receipts.retry', { id: bad.id });
    const again = await r.waitStatus(bad.id, 'fiscalised');
    expect(again.fiscal_document_number).toBe(102);
    expect(again.attempts.map((a: any) => a.outcome)).toEqual(['device_error', 'ok']);
    expect(r.emu.receipts()).toHaveLength(2);
  });

  it('waits for paper without losing its place, then prints', async () => {
    const r = await setup(db);
    r.emu.paperOut();
    const a = await r.submit();
    const b = await r.submit();
    await r.waitFor(async () => (await r.call('kkt.status')).state === 'operator_needed', 'operator_needed');
    expect((await r.call('receipts.get', { id: a.id })).status).toBe('queued');
    expect(r.emu.receipts()).toHaveLength(0);
    r.emu.loadPaper();
    expect((await r.waitStatus(a.id, 'fiscalised')).fiscal_document_number).toBe(101);
    expect((await r.waitStatus(b.id, 'fiscalised')).fiscal_document_number).toBe(102);
  });

  it('a blocked FN (14h) stops printing but not intake; the queue drains in order once it is unblocked', async () => {
    const r = await setup(db, { KKT_HARD_FAULT_RETRY_MS: '100' });
    r.emu.blockFn(0x14); // 30 days without the OFD
    const a = await r.submit();
    await r.waitFor(async () => (await r.call('kkt.status')).state === 'hard_fault', 'hard_fault');
    const b = await r.submit(); // intake goes on while the register is stopped
    const status = await r.call('kkt.status');
    expect(status.last_error.code).toBe(0x14);
    expect(status.queue.queued).toBe(2);
    const held = await r.call('receipts.get', { id: a.id });
    expect(held.status).toBe('queued');
    expect(held.attempts.every((x: any) => x.outcome === 'device_error' && x.device_error_code === 0x14)).toBe(true);
    expect(r.emu.receipts()).toHaveLength(0);
    r.emu.blockFn(null); // the OFD got its documents
    expect((await r.waitStatus(a.id, 'fiscalised')).fiscal_document_number).toBe(101);
    expect((await r.waitStatus(b.id, 'fiscalised')).fiscal_document_number).toBe(102);
    expect(r.emu.receipts()).toHaveLength(2);
  });

  it('paper running out after the FN made the receipt counts it once; the next waits for paper', async () => {
    const r = await setup(db);
    r.emu.paperOutAfterNextReceipt();
    const a = await r.submit();
    const b = await r.submit();
    expect((await r.waitStatus(a.id, 'fiscalised')).fiscal_document_number).toBe(101);
    await r.waitFor(async () => (await r.call('kkt.status')).state === 'operator_needed', 'operator_needed');
    expect((await r.call('receipts.get', { id: b.id })).status).toBe('queued');
    r.emu.loadPaper();
    expect((await r.waitStatus(b.id, 'fiscalised')).fiscal_document_number).toBe(102);
    expect(r.emu.receipts()).toHaveLength(2);
  });

  it('a lost answer to the closing command is reconciled, never printed twice', async () => {
    const r = await setup(db);
    r.emu.powerLossOn(0xff45, 'after'); // the receipt is made, the answer dies with the power
    const a = await r.submit();
    const done = await r.waitStatus(a.id, 'fiscalised');
    expect(done.fiscal_document_number).toBe(101);
    expect(done.attempts.map((x: any) => x.outcome)).toEqual(['transport_error', 'reconciled']);
    expect(r.emu.receipts()).toHaveLength(1);
    expect(String(r.emu.receipts()[0].fiscalSign)).toBe(done.fiscal_sign);
  });

  it('power lost before the closing command: the open receipt is cancelled and printed once', async () => {
    const r = await setup(db);
    r.emu.powerLossOn(0xff45, 'before');
    const a = await r.submit();
    const done = await r.waitStatus(a.id, 'fiscalised');
    expect(done.attempts.map((x: any) => x.outcome)).toEqual(['transport_error', 'ok']);
    expect(r.emu.receipts()).toHaveLength(1);
    expect(done.fiscal_document_number).toBe(101);
  });
});

describe('receipt printer: shifts and live status (sqlite)', () => {
  it('closes the shift by itself before its limit, and on request', async () => {
    const r = await setup('sqlite', { KKT_SHIFT_CLOSE_AFTER_H: '0.0004' }); // 1.44 s
    const a = await r.submit();
    await r.waitStatus(a.id, 'fiscalised');
    const st = await r.call('kkt.status');
    expect(st.shift_open).toBe(true);
    expect(Date.parse(st.shift_close_due_at) - Date.parse(st.shift_opened_at)).toBe(1440);
    await r.waitFor(async () => r.emu.journal().some((e) => e.type === 'shift_close'), 'automatic Z report', 5000);
    const b = await r.submit();
    const bd = await r.waitStatus(b.id, 'fiscalised');
    expect(bd.shift_number).toBe(8); // a new shift was opened for it
    expect(r.emu.journal().map((e) => e.type)).toEqual(['receipt', 'shift_close', 'shift_open', 'receipt']);
    // On request (JSON-RPC): the Z report is made between receipts.
    const z = await r.call('kkt.close_shift', {});
    expect(z.shift_number).toBe(8);
    expect(r.emu.journal().at(-1)).toMatchObject({ type: 'shift_close', fiscalDocumentNumber: z.fiscal_document_number });
    expect((await r.call('kkt.status')).shift_open).toBe(false);
  });

  it('streams a receipt’s status changes to a subscriber, from its current state to fiscalised', async () => {
    const r = await setup('sqlite');
    r.emu.unplug();
    const a = await r.submit();
    const c = createClient({
      url: r.s.url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, lazy: true, retryAttempts: 0,
      connectionParams: { Authorization: `Bearer ${r.s.adminKey}` },
    });
    const seen: string[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      c.subscribe(
        { query: `subscription { receiptUpdated(clientUuid: "${a.client_uuid}") { status fiscalDocumentNumber } }` },
        {
          next: (v: any) => {
            seen.push(v.data.receiptUpdated.status);
            if (seen.length === 1) r.emu.replug();
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    await finished;
    await c.dispose();
    expect(seen[0]).toBe('QUEUED');
    expect(seen.at(-1)).toBe('FISCALISED');
    expect(seen).toContain('PRINTING');
    const g = await gql(r.s.url, r.s.adminKey, `{ cashRegister { configured state queue { fiscalised } } }`);
    expect(g.body.data.cashRegister).toEqual({ configured: true, state: 'ready', queue: { fiscalised: 1 } });
  });
});
