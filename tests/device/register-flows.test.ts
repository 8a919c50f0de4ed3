/**
 * Device-state and reconciliation cases of the reference §6.3 (6–15, 20): busy, continue-print,
 * paper-out, shift fixes, orphan receipts, power loss around FF45h, foreign documents, FN
 * blocks, business errors and pre-send rejections. Driver against the emulator, on a pty
 * pair and in memory; every assertion is checked against the emulator's journal/counters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceError, LinkError, type ReceiptToPrint } from '../../src/device/register';
import { ReceiptValidationError } from '../../src/device/shtrih';
import { makeRig, rejection, sale, type Rig, type RigKind } from './harness';

const HOUR = 3600_000;

describe.each<RigKind>(['pty', 'memory'])('Shtrih register flows (%s)', (kind) => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('case 6: busy 50h / sub-mode 5 → poll 10h and resend, not counted as an attempt', async () => {
    rig = await makeRig(kind, {}, { retries: { enq: 2, frame: 1, read: 1 } });
    await rig.reg.prepare();
    rig.emu.busy(6);
    const r = await rig.reg.print(sale());
    const s = rig.emu.stats();
    expect(s.errors['8Dh:50h']).toBe(1);
    expect(s.commands['8Dh']).toBe(2);
    expect(rig.emu.receipts().map((d) => d.fiscalDocumentNumber)).toEqual([r.fiscalDocumentNumber]);

    rig.emu.busy(4); // prepare() waits out sub-mode 5 as well
    const st = await rig.reg.prepare();
    expect(st.subMode).toBe(0);
    expect(rig.emu.stats().busyAnswers).toBe(1);
  });

  it('case 7: 58h waiting for continue-print → B0h, then the command', async () => {
    rig = await makeRig(kind);
    rig.emu.waitForContinuePrint();
    const r = await rig.reg.print(sale());
    expect(rig.emu.stats().errors['8Dh:58h']).toBe(1);
    expect(rig.emu.executed(0xb0)).toBe(1);
    expect(rig.emu.receipts().map((d) => d.fiscalDocumentNumber)).toEqual([r.fiscalDocumentNumber]);
    rig.emu.waitForContinuePrint();
    expect((await rig.reg.prepare()).subMode).toBe(0);
    expect(rig.emu.executed(0xb0)).toBe(2);
  });

  it('case 8a: passive paper-out → operator error, nothing fiscalised; after reload prints once', async () => {
    rig = await makeRig(kind);
    rig.emu.paperOut();
    const e1 = await rejection(rig.reg.prepare());
    expect(e1).toBeInstanceOf(DeviceError);
    expect((e1 as DeviceError).kind).toBe('operator');
    const e2 = await rejection(rig.reg.print(sale()));
    expect(e2).toMatchObject({ kind: 'operator', code: 0x6b, command: 0x8d });
    expect((await rig.reg.state()).paperPresent).toBe(false);
    expect(rig.emu.receipts()).toHaveLength(0);
    rig.emu.loadPaper();
    await rig.reg.prepare();
    await rig.reg.print(sale());
    expect(rig.emu.receipts()).toHaveLength(1);
  });

  it('case 8b: active paper-out after FF45h → the result counts; B0h after reload; counted once', async () => {
    rig = await makeRig(kind);
    rig.emu.paperOutAfterNextReceipt();
    const r = await rig.reg.print(sale());
    expect(rig.emu.receipts().map((d) => d.fiscalDocumentNumber)).toEqual([r.fiscalDocumentNumber]);
    expect((await rig.reg.state()).subMode).toBe(2);
    const e = await rejection(rig.reg.prepare());
    expect(e).toMatchObject({ kind: 'operator' });
    rig.emu.loadPaper(); // sub-mode 3: waiting for B0h
    const st = await rig.reg.prepare();
    expect(st).toMatchObject({ subMode: 0, paperPresent: true, lastFiscalDocumentNumber: r.fiscalDocumentNumber });
    expect(rig.emu.executed(0xb0)).toBe(1);
    expect(rig.emu.executed(0xff45)).toBe(1);
    expect(rig.emu.receipts()).toHaveLength(1);
  });

  it('case 9: shift over 24 h → Z + open shift; closed shift → open; expired shift at 8Dh is fixed and retried once', async () => {
    rig = await makeRig(kind, { shiftNumber: 7 });
    rig.emu.ageShift(25 * HOUR);
    const s0 = await rig.reg.state();
    expect(s0).toMatchObject({ shiftExpired: true, mode: 3, shiftNumber: 7 });
    const s1 = await rig.reg.prepare();
    expect(s1).toMatchObject({ mode: 2, shiftOpen: true, shiftExpired: false, shiftNumber: 8 });
    expect(rig.emu.journal().map((e) => [e.type, e.shiftNumber])).toEqual([
      ['shift_close', 7],
      ['shift_open', 8],
    ]);

    await rig.reg.closeShift();
    expect((await rig.reg.prepare()).shiftNumber).toBe(9);

    rig.emu.ageShift(30 * HOUR); // no prepare(): print meets 4Eh, fixes, retries
    const r = await rig.reg.print(sale());
    expect(rig.emu.stats().errors['8Dh:4Eh']).toBe(1);
    expect(rig.emu.journal().map((e) => e.type)).toEqual(['shift_close', 'shift_open', 'shift_close', 'shift_open', 'shift_close', 'shift_open', 'receipt']);
    expect(r.shiftNumber).toBe(10);
  });

  it('case 10: orphan open receipt → 88h', async () => {
    rig = await makeRig(kind);
    rig.emu.openOrphanReceipt(0);
    expect(await rig.reg.state()).toMatchObject({ documentOpen: true, mode: 8 });
    const st = await rig.reg.prepare();
    expect(st).toMatchObject({ documentOpen: false, mode: 2 });
    expect(rig.emu.stats().receiptsCancelled).toBe(1);
    await rig.reg.print(sale());
    expect(rig.emu.receipts()).toHaveLength(1);
  });

  it('case 11: power loss right after FF45h executes → LinkError(unknown) → reconcile: fiscalised, exactly once', async () => {
    rig = await makeRig(kind);
    const st = await rig.reg.prepare();
    const expected = st.lastFiscalDocumentNumber + 1;
    rig.emu.powerLossOn(0xff45, 'after');
    const err = await rejection(rig.reg.print(sale()));
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).outcomeUnknown).toBe(true);
    const req = { expectedFiscalDocumentNumber: expected, fnSerial: st.fnSerial, operation: 'sale' as const, totalMinor: 23890 };
    const out = await rig.reg.reconcile(req);
    const docs = rig.emu.receipts();
    expect(docs).toHaveLength(1);
    expect(out).toMatchObject({ kind: 'fiscalised', result: { fiscalDocumentNumber: expected, fiscalSign: String(docs[0]!.fiscalSign), fiscalDateTime: docs[0]!.dateTime } });
    expect(await rig.reg.reconcile(req)).toMatchObject({ kind: 'fiscalised', result: { fiscalDocumentNumber: expected } });
    expect(rig.emu.executed(0xff45)).toBe(1);
    expect(rig.emu.stats().powerCycles).toBe(1);
  });

  it('case 12: power loss right before FF45h executes → reconcile cancels the open receipt: not_printed; reprint makes one receipt', async () => {
    rig = await makeRig(kind);
    const st = await rig.reg.prepare();
    const expected = st.lastFiscalDocumentNumber + 1;
    rig.emu.powerLossOn(0xff45, 'before');
    const err = await rejection(rig.reg.print(sale()));
    expect(err).toMatchObject({ name: 'LinkError', outcomeUnknown: true });
    expect(rig.emu.state.receiptOpen).toBe(true);
    expect(rig.emu.receipts()).toHaveLength(0);
    const out = await rig.reg.reconcile({ expectedFiscalDocumentNumber: expected, fnSerial: st.fnSerial, operation: 'sale', totalMinor: 23890 });
    expect(out).toEqual({ kind: 'not_printed' });
    expect(rig.emu.state.receiptOpen).toBe(false);
    const r = await rig.reg.print(sale());
    expect(r.fiscalDocumentNumber).toBe(expected);
    expect(rig.emu.receipts().map((d) => d.fiscalDocumentNumber)).toEqual([expected]);
  });

  it('case 13: FD number advanced by a foreign document → ambiguous, nothing printed twice; FN replaced → ambiguous', async () => {
    rig = await makeRig(kind);
    const st = await rig.reg.prepare();
    const expected = st.lastFiscalDocumentNumber + 1;
    rig.emu.foreignReceipt({ opType: 1, totalMinor: 777 });
    const req = { expectedFiscalDocumentNumber: expected, fnSerial: st.fnSerial, operation: 'sale' as const, totalMinor: 23890 };
    const out = await rig.reg.reconcile(req);
    expect(out.kind).toBe('ambiguous');
    expect((out as { reason: string }).reason).toMatch(/foreign/);
    expect(await rig.reg.reconcile({ ...req, fnSerial: '0000000000000001' })).toMatchObject({ kind: 'ambiguous', reason: expect.stringMatching(/serial/) });
    expect(rig.emu.receipts()).toHaveLength(0);
    expect(rig.emu.receipts(true)).toHaveLength(1);
  });

  it('case 14: FN 30-day OFD block (14h) and FN exhausted (12h) → DeviceError kind hard', async () => {
    rig = await makeRig(kind);
    rig.emu.blockFn(0x14);
    const e1 = await rejection(rig.reg.print(sale()));
    expect(e1).toMatchObject({ name: 'DeviceError', kind: 'hard', code: 0x14 });
    await rig.reg.closeShift();
    rig.emu.blockFn(0x12);
    const e2 = await rejection(rig.reg.prepare());
    expect(e2).toMatchObject({ name: 'DeviceError', kind: 'hard', code: 0x12, command: 0xe0 });
    expect(rig.emu.receipts()).toHaveLength(0);
  });

  it('case 15: business errors (45h, 8Eh, 33h bad VAT byte) → DeviceError business, receipt cancelled with 88h', async () => {
    rig = await makeRig(kind, {}, { validateBeforeSend: false, vatCodes: { none: 0x08, vat10: 0x77 } });
    await rig.reg.prepare();
    const short = sale({ items: [sale().items[0]!], totalMinor: 5990, payments: [{ type: 'cash', amountMinor: 5000 }] });
    expect(await rejection(rig.reg.print(short))).toMatchObject({ name: 'DeviceError', kind: 'business', code: 0x45, command: 0xff45 });
    const zero = sale({ items: [{ ...sale().items[0]!, priceMinor: 0, amountMinor: 0 }], totalMinor: 0 });
    expect(await rejection(rig.reg.print(zero))).toMatchObject({ kind: 'business', code: 0x8e });
    expect(await rejection(rig.reg.print(sale()))).toMatchObject({ kind: 'business', code: 0x33, command: 0xff46 });
    expect(rig.emu.stats().receiptsCancelled).toBe(3);
    expect(rig.emu.state.receiptOpen).toBe(false);
    expect(rig.emu.receipts()).toHaveLength(0);
  });

  it('case 15b/20: not encodable in CP1251, name > 128 bytes, contact > 64, VAT rate missing → rejected before sending', async () => {
    rig = await makeRig(kind, { model: 'shtrih-nano' }, { model: 'shtrih-nano', vatCodes: { none: 0x08 } });
    await rig.reg.prepare();
    const frames = rig.emu.stats().framesReceived;
    const bad: ReceiptToPrint[] = [
      sale({ items: [{ ...sale().items[0]!, name: 'Хлеб 🍞' }], totalMinor: 5990 }),
      sale({ items: [{ ...sale().items[0]!, name: 'б'.repeat(129) }], totalMinor: 5990 }),
      sale({ items: [sale().items[0]!], totalMinor: 5990, customerContact: `${'x'.repeat(60)}@b.ru` }),
      sale({ items: [{ ...sale().items[0]!, vat: 'vat22' }], totalMinor: 5990 }),
    ];
    const fields = [];
    for (const r of bad) {
      const e = await rejection(rig.reg.print(r));
      expect(e).toBeInstanceOf(ReceiptValidationError);
      expect(e).toBeInstanceOf(DeviceError);
      expect((e as DeviceError).kind).toBe('business');
      fields.push((e as ReceiptValidationError).problems[0]!.field);
    }
    expect(fields).toEqual(['items.0.name', 'items.0.name', 'customerContact', 'items.0.vat']);
    // Even with intake validation off, the encoder refuses an oversized name before sending.
    await rig.close();
    rig = await makeRig(kind, {}, { validateBeforeSend: false });
    const e = await rejection(rig.reg.print(sale({ items: [{ ...sale().items[0]!, name: 'ю'.repeat(200) }], totalMinor: 5990 })));
    expect(e).toBeInstanceOf(ReceiptValidationError);
    expect(rig.emu.stats().framesReceived).toBe(0);
    expect(frames).toBeGreaterThan(0);
  });
});

describe('Shtrih register (memory): serialisation, reports, timing', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('concurrent calls are serialised: every receipt printed once, in order', async () => {
    rig = await makeRig('memory');
    const results = await Promise.all([1, 2, 3, 4].map((n) => rig.reg.print(sale({ items: [{ ...sale().items[0]!, priceMinor: n * 100, amountMinor: n * 100 }], totalMinor: n * 100 }))));
    const docs = rig.emu.receipts();
    expect(docs.map((d) => d.totalMinor)).toEqual([100, 200, 300, 400]);
    expect(results.map((r) => r.fiscalDocumentNumber)).toEqual(docs.map((d) => d.fiscalDocumentNumber));
  });

  it('X report, Z report, open shift, OFD status, return receipts', async () => {
    rig = await makeRig('memory', { shiftOpen: false, shiftNumber: 3 });
    expect(await rig.reg.openShift()).toEqual({ shiftNumber: 4 });
    expect(await rig.reg.openShift()).toEqual({ shiftNumber: 4 }); // no-op when open
    await rig.reg.xReport();
    expect(rig.emu.executed(0x40)).toBe(1);
    await rig.reg.print(sale({ operation: 'sale_return', payments: [{ type: 'electronic', amountMinor: 23890 }] }));
    await rig.reg.print(sale({ operation: 'purchase' }));
    expect(rig.emu.receipts().map((d) => [d.receiptType, d.opType, d.items!.map((i) => i.opType)])).toEqual([
      [2, 2, [2, 2]],
      [1, 3, [3, 3]],
    ]);
    expect(rig.emu.receipts()[0]!.payments![1]).toBe(23890);
    const ofd = await rig.reg.ofdStatus();
    expect(ofd.queuedMessages).toBe(3);
    expect(ofd.firstUnsentFiscalDocumentNumber).toBe(rig.emu.journal()[0]!.fiscalDocumentNumber);
    const z = await rig.reg.closeShift();
    expect(z).toEqual({ shiftNumber: 4, fiscalDocumentNumber: rig.emu.state.lastFiscalDocumentNumber });
    expect(rig.emu.journal().at(-1)!.type).toBe('shift_close');
    expect((await rig.reg.state()).shiftOpen).toBe(false);
    rig.emu.setWarnings(0x0a);
    expect((await rig.reg.state()).warnings).toEqual({ fnExpiresSoon: true, fnArchiveNearlyFull: false, ofdTimeout: true });
    expect((await rig.reg.deviceType()).name).toMatch(/ШТРИХ/);
    expect(await rig.reg.findDocument(z.fiscalDocumentNumber)).toMatchObject({ documentType: 5, shiftNumber: 4 });
  });

  it('timing knob: execution time is modelled and reported as busyMs', async () => {
    rig = await makeRig('memory', { timing: { itemMs: 20, closeMs: 30 } });
    const t0 = Date.now();
    await rig.reg.print(sale());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70);
    expect(rig.emu.stats().busyMs).toBe(2 * 20 + 30);
  });

  it('an answer slower than the command timeout is still read (ENQ → ACK while executing)', async () => {
    rig = await makeRig('memory');
    rig.emu.delayNextAnswer(900); // commandMs is 400 in the rig
    const st = await rig.reg.state();
    expect(st.mode).toBe(2);
    expect(rig.emu.executed(0x10)).toBe(1);
  });
});
