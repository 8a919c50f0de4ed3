/**
 * VAT rate → FF46h byte, per device model (reference §1.5 table). The lead wires
 * KKT_MODEL / KKT_VAT_CODES to `resolveVatTable`.
 */
import type { VatCodeTable, VatRate } from '../register';
import { VAT_TAG_1199 } from '../register';

export type ShtrihModel = 'shtrih' | 'shtrih-nano';

export const SHTRIH_MODELS: readonly ShtrihModel[] = ['shtrih', 'shtrih-nano'];

const COMMON: Required<Omit<VatCodeTable, 'vat22' | 'vat22_122'>> = {
  vat20: 0x01,
  vat10: 0x02,
  vat0: 0x04,
  none: 0x08,
  vat20_120: 0x10,
  vat10_110: 0x20,
  vat5: 0x81,
  vat7: 0x82,
  vat5_105: 0x84,
  vat7_107: 0x88,
};

export const VAT_TABLES: Record<ShtrihModel, Readonly<Required<VatCodeTable>>> = {
  shtrih: { ...COMMON, vat22: 0xcb, vat22_122: 0xcc },
  'shtrih-nano': { ...COMMON, vat22: 0x90, vat22_122: 0xa0 },
};

export const VAT_RATES = Object.keys(VAT_TAG_1199) as VatRate[];

export function vatTableForModel(model: ShtrihModel): VatCodeTable {
  const t = VAT_TABLES[model];
  if (!t) throw new Error(`unknown KKT model ${JSON.stringify(model)}; known: ${SHTRIH_MODELS.join(', ')}`);
  return { ...t };
}

function parseCode(v: unknown, rate: string): number | null {
  if (v === null) return null;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    const m = /^(?:0x([0-9a-f]+)|([0-9a-f]+)h)$/i.exec(s);
    n = m ? parseInt((m[1] ?? m[2])!, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  } else n = NaN;
  if (!Number.isInteger(n) || n < 0 || n > 255) {
    throw new Error(`VAT code for ${rate} must be a byte (0…255, or "0xCB" / "CBh"), got ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * Overrides a table from a JSON object (or its text), e.g. `{"vat22": "0xCB", "vat7_107": 144}`.
 * A value of null removes the rate (it cannot be printed on that model). Unknown rate names
 * are rejected.
 */
export function vatTableFromJson(json: string | Record<string, unknown>, base: VatCodeTable = {}): VatCodeTable {
  const obj = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('VAT code table must be a JSON object');
  const out: VatCodeTable = { ...base };
  for (const [rate, v] of Object.entries(obj)) {
    if (!(rate in VAT_TAG_1199)) throw new Error(`unknown VAT rate ${JSON.stringify(rate)}; known: ${VAT_RATES.join(', ')}`);
    const code = parseCode(v, rate);
    if (code === null) delete out[rate as VatRate];
    else out[rate as VatRate] = code;
  }
  return out;
}

/** Model table plus optional overrides (KKT_MODEL, KKT_VAT_CODES). */
export function resolveVatTable(model: ShtrihModel = 'shtrih', overrides?: string | Record<string, unknown> | null): VatCodeTable {
  const base = vatTableForModel(model);
  return overrides ? vatTableFromJson(overrides, base) : base;
}

/** Reverse lookup: device byte → rate, for decoding (emulator, journals). */
export function vatRateForCode(table: VatCodeTable, code: number): VatRate | null {
  for (const [rate, c] of Object.entries(table)) if (c === code) return rate as VatRate;
  return null;
}
