/**
 * Link-level failure cases of the reference §6.3 (1–5, 17, 19), driver against the emulator
 * over a real pseudo-terminal pair and over the in-memory transport. Assertions look at the
 * emulator's own counters and journal: what it executed, how often, what it fiscalised.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LinkError } from '../../src/device/register';
import { makeRig, rejection, sale, settle, type Rig, type RigKind } from './harness';

const FF45 = 0xff45;
const FF46 = 0xff46;

describe.each<RigKind>(['pty', 'memory'])('Shtrih link faults (%s)', (kind) => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('prints a receipt; the journal holds exactly what was sent', async () => {
    rig = await makeRig(kind, {}, { ffd: '1.2' });
    const before = (await rig.reg.prepare()).lastFiscalDocumentNumber;
    const r = await rig.reg.print(sale());
    const receipts = rig.emu.receipts();
    expect(receipts).toHaveLength(1);
    const doc = receipts[0]!;
    expect(r.fiscalDocumentNumber).toBe(before + 1);
    expect(doc.fiscalDocumentNumber).toBe(r.fiscalDocumentNumber);
    expect(String(doc.fiscalSign)).toBe(r.fiscalSign);
    expect(r.fiscalDateTime).toBe(doc.dateTime);
    expect(r.changeMinor).toBe(25000 - 23890);
    expect(r.receiptNumber).toBe(doc.receiptNumber);
    expect(r.shiftNumber).toBe(doc.shiftNumber);
    expect(doc).toMatchObject({ opType: 1, totalMinor: 23890, taxSystem: 0x02, changeMinor: 1110 });
    expect(doc.payments![0]).toBe(25000);
    expect(doc.items!.map((i) => [i.name, i.quantityMicro, i.priceMinor, i.amountMinor, i.vatCode])).toEqual([
      ['Хлеб', 1_000_000, 5990, 5990, 0x08],
      ['Молоко 3,2%', 2_000_000, 8950, 17900, 0x02],
    ]);
    expect(doc.items!.every((i) => i.tlvs.some((t) => t.tag === 2108 && t.hex === '00'))).toBe(true);
    expect(doc.tlvs!.find((t) => t.tag === 1008)!.text).toBe('a@b.ru');
    expect(doc.tlvs!.find((t) => t.tag === 1021)!.text).toBe('Иванова А.');
    expect(rig.emu.executed(FF45)).toBe(1);
  });

  it('case 1: garbled answer LRC → NAK, ENQ, the same answer again; gives up after N with outcome unknown', async () => {
    rig = await makeRig(kind);
    await rig.reg.prepare();
    rig.emu.corruptNextAnswers(2, FF45);
    const r = await rig.reg.print(sale());
    expect(rig.emu.executed(FF45)).toBe(1);
    expect(rig.emu.receipts().map((d) => d.fiscalDocumentNumber)).toEqual([r.fiscalDocumentNumber]);
    expect(rig.reg.link.stats.naksSent).toBeGreaterThanOrEqual(2);

    rig.emu.corruptNextAnswers(100, 0x10);
    const err = await rejection(rig.reg.state());
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).outcomeUnknown).toBe(true);
    expect(rig.emu.executed(0x10)).toBeGreaterThanOrEqual(1);
    rig.emu.clearFaults();
    // The pending 10h answer is drained as stale on the next call, not given to FF01h's caller.
    const st = await rig.reg.state();
    expect(st.lastFiscalDocumentNumber).toBe(r.fiscalDocumentNumber);
    expect(rig.reg.staleAnswers().some((a) => a.code === 0x10)).toBe(true);
  });

  it('case 2: garbled host frame → device NAK → ENQ probe (NAK) → frame sent again, executed once', async () => {
    rig = await makeRig(kind);
    await rig.reg.prepare();
    const framesBefore = rig.reg.link.stats.framesSent;
    rig.emu.nakNextFrames(3, FF46);
    await rig.reg.print(sale());
    expect(rig.emu.executed(FF46)).toBe(2);
    expect(rig.emu.stats().naksSent).toBe(3);
    // 8Dh, 2×FF0Ch, 2×FF46h, FF45h, FF40h: 7 commands, 3 extra transmissions.
    expect(rig.reg.link.stats.framesSent - framesBefore).toBe(7 + 3);
    expect(rig.emu.receipts()).toHaveLength(1);
  });

  it('case 3: lost ACK → ENQ answered ACK → answer read, command not resent', async () => {
    rig = await makeRig(kind);
    await rig.reg.prepare();
    rig.emu.dropNextAcks(1, FF45);
    const r = await rig.reg.print(sale());
    expect(rig.emu.executed(FF45)).toBe(1);
    expect(rig.emu.stats().framesReceived).toBe(rig.reg.link.stats.framesSent);
    expect(rig.emu.receipts().map((d) => d.fiscalDocumentNumber)).toEqual([r.fiscalDocumentNumber]);
  });

  it('case 4: answer stops after STX+LEN → NAK + ENQ → whole answer resent', async () => {
    rig = await makeRig(kind);
    await rig.reg.prepare();
    rig.emu.cutNextAnswer(2, FF45);
    const r = await rig.reg.print(sale());
    expect(rig.emu.executed(FF45)).toBe(1);
    expect(rig.emu.receipts()[0]!.fiscalDocumentNumber).toBe(r.fiscalDocumentNumber);
    expect(rig.reg.link.stats.naksSent).toBeGreaterThanOrEqual(1);
    expect(rig.reg.link.stats.badAnswers).toBeGreaterThanOrEqual(1);
  });

  it('case 5: an answer lost after execution is found by the next ENQ and attributed to the earlier command', async () => {
    rig = await makeRig(kind);
    const { lastFiscalDocumentNumber } = await rig.reg.prepare();
    rig.emu.corruptNextAnswers(100, FF45); // the host never gets a readable FF45h answer
    const err = await rejection(rig.reg.print(sale()));
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).outcomeUnknown).toBe(true);
    expect(rig.emu.state.pendingAnswer).toBe(true);
    rig.emu.clearFaults();

    // The next command's ENQ gets ACK + the FF45h answer: kept aside, not returned to state().
    const st = await rig.reg.state();
    expect(st.lastFiscalDocumentNumber).toBe(lastFiscalDocumentNumber + 1);
    expect(rig.reg.staleAnswers().map((a) => a.code)).toContain(FF45);
    await settle();
    expect(rig.emu.state.pendingAnswer).toBe(false);

    const out = await rig.reg.reconcile({ expectedFiscalDocumentNumber: lastFiscalDocumentNumber + 1, fnSerial: st.fnSerial, operation: 'sale', totalMinor: 23890 });
    const doc = rig.emu.receipts()[0]!;
    expect(out).toEqual({
      kind: 'fiscalised',
      result: expect.objectContaining({ fiscalDocumentNumber: doc.fiscalDocumentNumber, fiscalSign: String(doc.fiscalSign), changeMinor: 1110 }),
    });
    expect(rig.emu.executed(FF45)).toBe(1);
  });

  it('case 17: unplug → LinkError; after replug the driver reopens the port and works', async () => {
    rig = await makeRig(kind);
    await rig.reg.prepare();
    if (kind === 'pty') await rig.pull();
    else rig.emu.unplug();
    const err = await rejection(rig.reg.print(sale()));
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).outcomeUnknown).toBe(false);
    expect(rig.emu.receipts()).toHaveLength(0);

    if (kind === 'pty') await rig.replug();
    else rig.emu.replug();
    const r = await rig.reg.print(sale());
    expect(rig.emu.receipts().map((d) => d.fiscalDocumentNumber)).toEqual([r.fiscalDocumentNumber]);
    expect(rig.reg.link.stats.reopens).toBeGreaterThanOrEqual(1);
  });

  it('case 17b: the port goes away while a command is in flight → LinkError with outcome unknown', async () => {
    rig = await makeRig(kind, { timing: { closeMs: 150 } }, { timeouts: { commandMs: 2000 } });
    await rig.reg.prepare();
    const p = rejection(rig.reg.print(sale()));
    while (!rig.emu.state.executing) await new Promise((r) => setTimeout(r, 2));
    if (kind === 'pty') await rig.pull();
    else rig.emu.unplug();
    const err = await p;
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).outcomeUnknown).toBe(true);
  });

  it('case 19: stray bytes, FFh after ACK and junk before STX are skipped', async () => {
    rig = await makeRig(kind);
    rig.emu.setFfAfterAck(true);
    await rig.reg.prepare();
    rig.emu.injectBytes([0x00, 0xff, 0x41, 0x13]);
    rig.emu.junkBeforeNextAnswer([0xff, 0x00, 0x37, 0xff]);
    const r = await rig.reg.print(sale());
    rig.emu.injectBytes([0xff, 0xff, 0x02]);
    const st = await rig.reg.state();
    expect(st.lastFiscalDocumentNumber).toBe(r.fiscalDocumentNumber);
    expect(rig.emu.receipts()).toHaveLength(1);
    expect(rig.emu.stats().framesReceived).toBe(rig.reg.link.stats.framesSent);
  });
});
