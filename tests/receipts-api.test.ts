/**
 * Receipt intake over both transports, on both databases, with no register attached (so the
 * receipts stay queued and the test sees exactly what intake stored): validation with field
 * names, nothing stored on bad input, idempotent client UUIDs, operator retry/cancel rules.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMicro } from '../src/services/receipt-input';
import { DB_KINDS } from './helpers/db';
import { gql, rpc, startTestServer, type TestServer } from './helpers/server';

const CREATE = `mutation($input: ReceiptInputGql!) { createReceipt(input: $input) {
  duplicate receipt { id clientUuid status totalMinor changeMinor items { name amountMinor quantity vat } payments { type amountMinor } } } }`;

function rpcReceipt(over: Record<string, unknown> = {}) {
  return {
    client_uuid: randomUUID(),
    tax_system: 'osn',
    items: [
      { name: 'Кофе в зёрнах, 250 г', price_minor: 89_000, quantity: 2, vat: 'vat22' },
      { name: 'Конфеты весовые', price_minor: 120_000, quantity: 0.35, vat: 'vat10', unit: 'kilogram' },
    ],
    payments: [{ type: 'cash', amount_minor: 100_000 }, { type: 'electronic', amount_minor: 120_000 }],
    ...over,
  };
}

describe.each(DB_KINDS)('receipt intake on %s', (db) => {
  let s: TestServer;
  const call = async (method: string, params?: unknown, key: string | null = s.adminKey) =>
    (await rpc(s.url, key, { jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) })).body;
  const count = async () => Number(((await s.companion.db('receipts').count({ n: '*' })) as any)[0].n);

  beforeAll(async () => {
    s = await startTestServer({ db, seed: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('receipts.create stores a queued receipt with computed amounts and change', async () => {
    const p = rpcReceipt();
    const r = await call('receipts.create', p);
    expect(r.error).toBeUndefined();
    expect(r.result.duplicate).toBe(false);
    const rec = r.result.receipt;
    expect(rec).toMatchObject({ client_uuid: p.client_uuid, status: 'queued', operation: 'sale', tax_system: 'osn' });
    // 2 × 890.00 + 0.35 × 1 200.00 = 1 780.00 + 420.00; paid 1 000 cash + 1 200 card → change 0? no: 2 200 − 2 200.
    expect(rec.total_minor).toBe(178_000 + 42_000);
    expect(rec.items.map((i: any) => i.amount_minor)).toEqual([178_000, 42_000]);
    expect(rec.change_minor).toBe(0);
    const got = await call('receipts.get', { client_uuid: p.client_uuid.toUpperCase() });
    expect(got.result).toMatchObject({ id: rec.id, status: 'queued', attempts: [] });
  });

  it('change comes only out of cash', async () => {
    const withChange = await call('receipts.create', rpcReceipt({ payments: [{ type: 'cash', amount_minor: 250_000 }] }));
    expect(withChange.result.receipt.change_minor).toBe(30_000);
    const cardOver = await call('receipts.create', rpcReceipt({ payments: [{ type: 'electronic', amount_minor: 250_000 }] }));
    expect(cardOver.error.code).toBe(-32602);
    expect(cardOver.error.data.problems[0].field).toBe('payments');
  });

  it('a second submission of one client UUID returns the first receipt, also concurrently', async () => {
    const p = rpcReceipt();
    const [a, b, c] = await Promise.all([call('receipts.create', p), call('receipts.create', p), call('receipts.create', { ...p, items: [p.items[0]], payments: [{ type: 'cash', amount_minor: 178_000 }] })]);
    const ids = [a, b, c].map((x) => x.result.receipt.id);
    expect(new Set(ids).size).toBe(1);
    expect([a, b, c].filter((x) => x.result.duplicate === false)).toHaveLength(1);
    // The first receipt's content, not the resubmitted one's.
    expect(c.result.receipt.total_minor).toBe(a.result.receipt.total_minor);
    expect(await s.companion.db('receipts').where({ client_uuid: p.client_uuid }).count({ n: '*' }).then((r: any) => Number(r[0].n))).toBe(1);
    // The same key through GraphQL is the same receipt.
    const g = await gql(s.url, s.adminKey, CREATE, {
      input: { clientUuid: p.client_uuid, taxSystem: 'osn', items: [{ name: 'x', priceMinor: 100, quantity: 1, vat: 'vat22' }], payments: [{ type: 'cash', amountMinor: 100 }] },
    });
    expect(g.body.data.createReceipt).toMatchObject({ duplicate: true, receipt: { id: String(a.result.receipt.id) } });
    // Only the UUID decides: a resubmission that would not pass validation today still gets the first receipt.
    const bad = await gql(s.url, s.adminKey, CREATE, {
      input: { clientUuid: p.client_uuid, taxSystem: 'osn', items: [{ name: 'x', priceMinor: 100, quantity: 1, vat: 'vat18' }], payments: [{ type: 'cash', amountMinor: 1 }] },
    });
    expect(bad.body.data.createReceipt).toMatchObject({ duplicate: true, receipt: { id: String(a.result.receipt.id) } });
  });

  it('bad input names the field, and nothing is stored', async () => {
    const before = await count();
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ client_uuid: 'not-a-uuid' }, 'client_uuid', /UUID/],
      [{ items: [{ name: 'Хлеб', price_minor: 5990, quantity: 1, vat: 'vat18' }] }, 'items.0.vat', /./],
      [{ items: [{ name: 'Bread ✓ check', price_minor: 5990, quantity: 1, vat: 'vat22' }], payments: [{ type: 'cash', amount_minor: 5990 }] }, 'items.0.name', /CP1251|encod/i],
      [{ items: [{ name: 'Ж'.repeat(129), price_minor: 5990, quantity: 1, vat: 'vat22' }], payments: [{ type: 'cash', amount_minor: 5990 }] }, 'items.0.name', /128/],
      [{ items: [{ name: 'Хлеб', price_minor: 5990, quantity: 1.0000001, vat: 'vat22' }] }, 'items.0.quantity', /decimals/],
      [{ items: [{ name: 'Хлеб', price_minor: 59.9, quantity: 1, vat: 'vat22' }] }, 'items.0.price_minor', /./],
      [{ payments: [{ type: 'cash', amount_minor: 1 }] }, 'payments', /add up/],
      [{ items: [{ name: 'Подарок', price_minor: 0, quantity: 1, vat: 'vat22' }], payments: [{ type: 'cash', amount_minor: 100 }] }, 'items', /zero/],
      [{ total_minor: 1 }, 'total_minor', /add up/],
      [{ customer_contact: 'call me maybe' }, 'customer_contact', /e-mail|phone/],
      [{ items: [] }, 'items', /./],
    ];
    for (const [over, field, msg] of cases) {
      const r = await call('receipts.create', rpcReceipt(over));
      expect(r.error, JSON.stringify(over)).toBeDefined();
      expect(r.error.code).toBe(-32602);
      const hit = r.error.data.problems.find((p: any) => p.field === field);
      expect(hit, `${field} in ${JSON.stringify(r.error.data.problems)}`).toBeDefined();
      expect(hit.message).toMatch(msg);
    }
    // GraphQL reports the same problems with its own field names.
    const g = await gql(s.url, s.adminKey, CREATE, {
      input: { clientUuid: randomUUID(), taxSystem: 'osn', items: [{ name: 'Хлеб', priceMinor: 5990, quantity: 1, vat: 'vat22' }], payments: [{ type: 'cash', amountMinor: 10 }] },
    });
    expect(g.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(g.body.errors[0].extensions.problems[0].field).toBe('payments');
    expect(await count()).toBe(before);
  });

  it('retry only dead receipts; cancel only queued or dead ones', async () => {
    const p = rpcReceipt();
    const rec = (await call('receipts.create', p)).result.receipt;
    const retry = await call('receipts.retry', { id: rec.id });
    expect(retry.error.code).toBe(-32009);
    await s.companion.db('receipts').where({ id: rec.id }).update({ status: 'dead', last_error: 'device error 33h' });
    expect((await call('receipts.retry', { id: rec.id })).result.status).toBe('queued');
    const cancelled = await gql(s.url, s.adminKey, `mutation($id: ID) { cancelReceipt(id: $id) { status } }`, { id: String(rec.id) });
    expect(cancelled.body.data.cancelReceipt.status).toBe('CANCELLED');
    expect((await call('receipts.cancel', { id: rec.id })).error.message).toMatch(/already cancelled/);
    const fisc = (await call('receipts.create', rpcReceipt())).result.receipt;
    await s.companion.db('receipts').where({ id: fisc.id }).update({ status: 'fiscalised' });
    const no = await call('receipts.cancel', { client_uuid: fisc.client_uuid });
    expect(no.error.code).toBe(-32009);
    expect(no.error.message).toMatch(/return receipt/);
  });

  it('lists receipts by status, shift and the time they were accepted, on both transports', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push((await call('receipts.create', rpcReceipt())).result.receipt);
      await new Promise((r) => setTimeout(r, 15)); // distinct created_at
    }
    // As the printer would have left them: two in shift 8, one in shift 9.
    await s.companion.db('receipts').whereIn('id', [made[0].id, made[1].id]).update({ status: 'fiscalised', shift_number: 8 });
    await s.companion.db('receipts').where({ id: made[2].id }).update({ status: 'fiscalised', shift_number: 9 });

    const ids = (r: any) => r.result.items.map((x: any) => x.id);
    expect(ids(await call('receipts.list', { shift_number: 8, first: 50 }))).toEqual([made[1].id, made[0].id]);
    // from is inclusive, before exclusive: [made[1], made[2]) holds made[1] only; an offset is understood.
    const from = made[1].created_at;
    const before = new Date(Date.parse(made[2].created_at)).toISOString().replace('Z', '+00:00');
    expect(ids(await call('receipts.list', { created_from: from, created_before: before, first: 50 }))).toEqual([made[1].id]);
    expect(ids(await call('receipts.list', { created_from: from, status: 'fiscalised', first: 50 }))).toEqual([made[2].id, made[1].id]);
    const bad = await call('receipts.list', { created_from: 'yesterday' });
    expect(bad.error.code).toBe(-32602);
    expect(bad.error.data.problems).toEqual([{ field: 'created_from', message: 'not an ISO-8601 date-time' }]);

    const g = await gql(s.url, s.adminKey, `query($f: ReceiptFilter) { receipts(filter: $f, first: 50) { edges { node { id shiftNumber } } } }`, {
      f: { shiftNumber: 9, createdFrom: made[0].created_at },
    });
    expect(g.body.errors).toBeUndefined();
    expect(g.body.data.receipts.edges.map((e: any) => Number(e.node.id))).toEqual([made[2].id]);
  });

  it('the receipts scope guards intake; kkt.status reports no register and the queue', async () => {
    const readOnly = await s.key(['read']);
    expect((await call('receipts.create', rpcReceipt(), readOnly)).error.code).toBe(-32003);
    const st = await call('kkt.status', {});
    expect(st.result).toMatchObject({ configured: false, state: 'not_configured' });
    expect(st.result.queue.queued).toBeGreaterThan(0);
    expect((await call('kkt.close_shift', {})).error.code).toBe(-32050);
  });
});

describe('quantities: at most 6 decimals, whatever binary noise the number carries', () => {
  it('accepts what a caller typed and refuses a 7th decimal', () => {
    expect(toMicro(8192.2)).toBe(8_192_200_000); // toFixed(12) showed noise here: was refused
    expect(toMicro(9999.123456)).toBe(9_999_123_456);
    expect(toMicro(99999)).toBe(99_999_000_000); // the ceiling
    expect(toMicro(0.1 + 0.2)).toBe(300_000);
    expect(toMicro(0.35)).toBe(350_000);
    expect(toMicro(0.000001)).toBe(1);
    expect(toMicro(1.1234567)).toBeNull();
    expect(toMicro(0.0000005)).toBeNull();
    expect(toMicro(100_000)).toBeNull(); // above the ceiling
    expect(toMicro(0)).toBeNull();
  });
});
