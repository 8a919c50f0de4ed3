/**
 * Byte-for-byte checks of the codec and command encoders against the worked examples of the
 * reference (§1.7), plus the pre-send rejections (LEN > 255, names > 128 bytes, non-CP1251).
 */
import { describe, expect, it } from 'vitest';
import {
  EncodingError,
  decodeDateTime,
  decodeFrame,
  decodeMoney,
  encodeCp1251,
  encodeCp866,
  encodeDateTime,
  encodeFrame,
  encodeMoney,
  encodeQuantity6,
  lrc,
  tlvString,
  tlvByte,
} from '../../src/device/shtrih/codec';
import * as C from '../../src/device/shtrih/commands';
import { validateReceiptForDevice } from '../../src/device/shtrih/receipt';
import { resolveVatTable, vatTableForModel, vatTableFromJson } from '../../src/device/shtrih/vat';
import { errorInfo, errorKind } from '../../src/device/shtrih/errors';
import type { ReceiptToPrint } from '../../src/device/register';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const frameOf = (r: C.CommandRequest) => encodeFrame(r.code, r.data);

describe('Shtrih codec: worked examples of §1.7', () => {
  it('short status with password 30', () => {
    expect(frameOf(C.shortStatus(30))).toEqual(hex('02 05 10 1E 00 00 00 0B'));
    expect(lrc(hex('05 10 1E 00 00 00'))).toBe(0x0b);
  });

  it('FF46h sale of "Хлеб", 1 × 59.90, no VAT, full payment, goods, sum and tax auto', () => {
    const r = C.operationV2(30, {
      opType: 1,
      quantityMicro: 1_000_000,
      priceMinor: 5990,
      vatCode: 0x08,
      department: 1,
      paymentMethod: 4,
      paymentSubject: 1,
      name: 'Хлеб',
    });
    expect(frameOf(r)).toEqual(
      hex('02 24 FF 46 1E 00 00 00 01 40 42 0F 00 00 00 66 17 00 00 00 FF FF FF FF FF FF FF FF FF FF 08 01 04 01 D5 EB E5 E1 C8'),
    );
  });

  it('decodes the FF46h success answer and the busy / shift-expired answers', () => {
    expect(decodeFrame(hex('02 03 FF 46 00 BA'))).toEqual({ code: 0xff46, data: hex('00') });
    expect(decodeFrame(hex('02 03 FF 45 50 E9'))).toEqual({ code: 0xff45, data: hex('50') });
    expect(decodeFrame(hex('02 03 FF 46 4E F4'))).toEqual({ code: 0xff46, data: hex('4E') });
    expect(() => decodeFrame(hex('02 03 FF 46 4E F5'))).toThrow(/LRC/);
  });

  it('FF45h close, cash 59.90, УСН доход, no text (LEN 118)', () => {
    const r = C.closeReceiptV2(30, { payments: [5990], taxSystem: 0x02 });
    const expected = Buffer.concat([hex('02 76 FF 45 1E 00 00 00 66 17 00 00 00'), Buffer.alloc(75), Buffer.alloc(1), Buffer.alloc(30), hex('02 A1')]);
    expect(frameOf(r)).toEqual(expected);
    expect(frameOf(r)[1]).toBe(118);
  });

  it('decodes the synthetic FF45h answer (change 0, FD 1234, FP 3735928559)', () => {
    const { code, data } = decodeFrame(hex('02 10 FF 45 00 00 00 00 00 00 D2 04 00 00 EF BE AD DE 5E'));
    expect(code).toBe(0xff45);
    expect(data[0]).toBe(0);
    expect(C.decodeCloseReceipt(data.subarray(1))).toEqual({ changeMinor: 0, fiscalDocumentNumber: 1234, fiscalSign: 3735928559, dateTime: null });
    // With the extended-answer DATE_TIME appended.
    const ext = Buffer.concat([data.subarray(1), hex('1A 03 0F 0C 1E')]);
    expect(C.decodeCloseReceipt(ext).dateTime).toBe('2026-03-15T12:30:00.000Z');
  });

  it('TLV 1008 = "a@b.ru" via FF0Ch and unit 2108 = 0 via FF4Dh', () => {
    expect(frameOf(C.sendTlv(30, tlvString(1008, 'a@b.ru')))).toEqual(hex('02 10 FF 0C 1E 00 00 00 F0 03 06 00 61 40 62 2E 72 75 62'));
    expect(frameOf(C.sendItemTlv(30, tlvByte(2108, 0)))).toEqual(hex('02 0B FF 4D 1E 00 00 00 3C 08 01 00 00 92'));
  });

  it('find FD #5 and OFD status', () => {
    expect(frameOf(C.findDocument(30, 5))).toEqual(hex('02 0A FF 0A 1E 00 00 00 05 00 00 00 E4'));
    expect(frameOf(C.ofdStatus(30))).toEqual(hex('02 06 FF 39 1E 00 00 00 DE'));
  });

  it('numbers, dates and text', () => {
    expect(encodeMoney(5990)).toEqual(hex('66 17 00 00 00'));
    expect(encodeMoney(9_999_999_999)).toEqual(hex('FF E3 0B 54 02'));
    expect(decodeMoney(hex('FF E3 0B 54 02'), 0)).toBe(9_999_999_999);
    expect(() => encodeMoney(10_000_000_000)).toThrow(EncodingError);
    expect(() => encodeMoney(1.5)).toThrow(EncodingError);
    expect(encodeQuantity6(1_500_000)).toEqual(hex('60 E3 16 00 00 00'));
    const d = new Date(Date.UTC(2026, 0, 5, 9, 7));
    expect(encodeDateTime(d)).toEqual(hex('1A 01 05 09 07'));
    expect(decodeDateTime(hex('1A 01 05 09 07'), 0)).toBe(d.toISOString());
    expect(encodeCp1251('Хлеб')).toEqual(hex('D5 EB E5 E1'));
    expect(encodeCp866('Хлеб')).toEqual(hex('95 AB A5 A1'));
    expect(() => encodeCp1251('Хлеб 🍞', 'name')).toThrow(/name: character "🍞" cannot be encoded in CP1251/);
    expect(() => encodeCp1251('日本')).toThrow(EncodingError);
  });

  it('rejects before sending: LEN > 255, name > 128 bytes, close text > 64 bytes', () => {
    const item = { opType: 1, quantityMicro: 1_000_000, priceMinor: 100, vatCode: 8, department: 0, paymentMethod: 4, paymentSubject: 1 };
    expect(() => C.operationV2(30, { ...item, name: 'я'.repeat(129) })).toThrow(/name: 129 bytes in CP1251, at most 128/);
    expect(frameOf(C.operationV2(30, { ...item, name: 'я'.repeat(128) }))[1]).toBe(160);
    expect(() => C.closeReceiptV2(30, { payments: [1], taxSystem: 1, text: 'x'.repeat(65) })).toThrow(/text: 65 bytes/);
    expect(() => C.sendTlv(30, Buffer.alloc(251))).toThrow(/tlv: 251 bytes/);
    expect(() => encodeFrame(0x10, Buffer.alloc(255))).toThrow(/LEN 256/);
  });
});

describe('VAT tables, error table', () => {
  it('per-model VAT codes and JSON overrides', () => {
    expect(vatTableForModel('shtrih')).toMatchObject({ vat20: 0x01, vat10: 0x02, vat0: 0x04, none: 0x08, vat20_120: 0x10, vat10_110: 0x20, vat5: 0x81, vat7: 0x82, vat5_105: 0x84, vat7_107: 0x88, vat22: 0xcb, vat22_122: 0xcc });
    expect(vatTableForModel('shtrih-nano')).toMatchObject({ vat22: 0x90, vat22_122: 0xa0, none: 0x08 });
    const t = resolveVatTable('shtrih', '{"vat7_107": "0x90", "vat22": "CBh", "vat5": null}');
    expect(t.vat7_107).toBe(0x90);
    expect(t.vat22).toBe(0xcb);
    expect(t.vat5).toBeUndefined();
    expect(() => vatTableFromJson({ vat18: 1 })).toThrow(/unknown VAT rate/);
    expect(() => vatTableFromJson({ vat20: 300 })).toThrow(/byte/);
  });

  it('classifies error codes', () => {
    expect(errorKind(0x45)).toBe('business');
    expect(errorKind(0x14)).toBe('hard');
    expect(errorKind(0x12)).toBe('hard');
    expect(errorKind(0x6b)).toBe('operator');
    expect(errorInfo(0x50).handling).toBe('busy');
    expect(errorInfo(0x58).handling).toBe('continue-print');
    expect(errorInfo(0x4e)).toMatchObject({ handling: 'state', fixable: true });
    expect(errorInfo(0x4e).ru).toMatch(/24 часа/);
  });
});

describe('validateReceiptForDevice', () => {
  const base: ReceiptToPrint = {
    operation: 'sale',
    taxSystem: 'usn_income',
    items: [{ name: 'Хлеб', priceMinor: 5990, quantityMicro: 1_000_000, amountMinor: 5990, vat: 'none', paymentMethod: 4, paymentSubject: 1 }],
    payments: [{ type: 'cash', amountMinor: 6000 }],
    totalMinor: 5990,
    customerContact: 'a@b.ru',
  };
  const vat = resolveVatTable('shtrih');

  it('accepts a good receipt', () => {
    expect(validateReceiptForDevice(base, vat)).toEqual([]);
  });

  it('reports every problem by field', () => {
    const bad: ReceiptToPrint = {
      ...base,
      items: [
        { ...base.items[0]!, name: 'Хлеб ☃' },
        { ...base.items[0]!, name: 'ж'.repeat(129), vat: 'vat22', quantityMicro: 0 },
      ],
      payments: Array.from({ length: 17 }, () => ({ type: 'cash' as const, amountMinor: 1 })),
      customerContact: 'x'.repeat(65),
      totalMinor: 11980,
    };
    const nano = { ...resolveVatTable('shtrih-nano') };
    delete nano.vat22;
    const fields = validateReceiptForDevice(bad, nano).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['items.0.name', 'items.1.name', 'items.1.vat', 'items.1.quantityMicro', 'payments', 'customerContact']));
    const p = validateReceiptForDevice(bad, nano);
    expect(p.find((x) => x.field === 'items.0.name')!.message).toMatch(/CP1251/);
    expect(p.find((x) => x.field === 'items.1.name')!.message).toMatch(/129 bytes/);
    expect(p.some((x) => x.field === 'payments' && /17 payments/.test(x.message))).toBe(true);
    expect(p.some((x) => x.field === 'payments' && /less than the total/.test(x.message))).toBe(true);
  });

  it('zero total, total mismatch and non-cash above the total', () => {
    const zero = validateReceiptForDevice({ ...base, items: [{ ...base.items[0]!, priceMinor: 0, amountMinor: 0 }], totalMinor: 0 }, vat);
    expect(zero.map((x) => x.message)).toContain('zero receipt total');
    expect(validateReceiptForDevice({ ...base, totalMinor: 5000 }, vat)[0]!.field).toBe('totalMinor');
    const card = validateReceiptForDevice({ ...base, payments: [{ type: 'electronic', amountMinor: 6000 }] }, vat);
    expect(card[0]!.message).toMatch(/non-cash/);
  });
});
