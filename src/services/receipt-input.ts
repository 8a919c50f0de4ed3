/**
 * Intake validation of a fiscal receipt: the business rules (amounts add up, one tax system,
 * enumerations), then the register's own limits (names encodable in CP1251, sizes within the
 * protocol's frames, the VAT rate present in the model's table). Everything is checked before
 * anything is stored, and every problem is reported with the field it belongs to.
 *
 * The result carries `printPayload`: the receipt exactly as the register will receive it
 * (integer money and quantities in millionths, tag values resolved). It is stored with the
 * receipt so every attempt prints the same document.
 */
import { AppError, type FieldProblem } from '../errors';
import type {
  PaymentType, ReceiptItemToPrint, ReceiptOperation, ReceiptToPrint, TaxSystem, VatCodeTable, VatRate,
} from '../device/register';
import { roundHalfUpAmount } from '../device/shtrih/receipt';
import { VAT_RATES } from '../device/shtrih/vat';

export const RECEIPT_OPERATIONS: readonly ReceiptOperation[] = ['sale', 'sale_return', 'purchase', 'purchase_return'];
export const TAX_SYSTEMS: readonly TaxSystem[] = ['osn', 'usn_income', 'usn_income_outcome', 'eshn', 'patent'];
export { VAT_RATES };
export const PAYMENT_TYPES: readonly PaymentType[] = ['cash', 'electronic', 'prepaid', 'credit', 'counter_provision'];

/** Tag 1214 values by name (Odoo's fiscal modules use the same words). */
export const PAYMENT_METHODS = {
  full_prepayment: 1, prepayment: 2, advance: 3, full_payment: 4, partial_payment: 5, credit: 6, credit_payment: 7,
} as const;
export type PaymentMethod = keyof typeof PAYMENT_METHODS;

/** Tag 1212 values by name (the subset a shop uses; FFD 1.2 marked goods are not offered yet). */
export const PAYMENT_SUBJECTS = {
  commodity: 1, excise: 2, job: 3, service: 4, payment: 10, agent_commission: 11, composite: 12, another: 13,
} as const;
export type PaymentSubject = keyof typeof PAYMENT_SUBJECTS;

/** Tag 2108 values by name (FFD 1.2). */
export const MEASURE_UNITS = {
  piece: 0, gram: 10, kilogram: 11, ton: 12, centimeter: 20, meter: 22, square_meter: 32, milliliter: 40, liter: 41,
  cubic_meter: 42, kilowatt_hour: 50, day: 70, hour: 71, other: 255,
} as const;
export type MeasureUnit = keyof typeof MEASURE_UNITS;

export interface ReceiptItemInput {
  name: string;
  /** Unit price in kopecks. */
  priceMinor: number;
  /** Up to 6 decimals (1.5 kg, 0.35). */
  quantity: number;
  vat: VatRate;
  paymentMethod?: PaymentMethod | null;
  paymentSubject?: PaymentSubject | null;
  unit?: MeasureUnit | null;
  department?: number | null;
}

export interface ReceiptInput {
  /** The caller's idempotency key (a UUID): a second submission returns the first receipt. */
  clientUuid: string;
  operation?: ReceiptOperation | null;
  taxSystem: TaxSystem;
  items: ReceiptItemInput[];
  payments: Array<{ type: PaymentType; amountMinor: number }>;
  customerContact?: string | null;
  cashierName?: string | null;
  /** If given, must equal the sum of the items (a cross-check of the caller's arithmetic). */
  totalMinor?: number | null;
}

/** What is stored in receipts.items: the input with defaults applied and each line's amount. */
export interface StoredReceiptItem {
  name: string;
  priceMinor: number;
  quantity: number;
  amountMinor: number;
  vat: VatRate;
  paymentMethod: PaymentMethod;
  paymentSubject: PaymentSubject;
  unit: MeasureUnit | null;
  department: number | null;
}

export interface ValidatedReceipt {
  clientUuid: string;
  operation: ReceiptOperation;
  taxSystem: TaxSystem;
  items: StoredReceiptItem[];
  payments: Array<{ type: PaymentType; amountMinor: number }>;
  totalMinor: number;
  changeMinor: number;
  customerContact: string | null;
  cashierName: string | null;
  printPayload: ReceiptToPrint;
}

/**
 * The register's own checks (text encodings, frame sizes, VAT table), supplied by the driver
 * so the protocol's limits are written down once (src/device/shtrih/).
 */
export type RegisterInputCheck = (receipt: ReceiptToPrint) => FieldProblem[];

/** FF46h money field: 5 bytes, at most 9 999 999 999 kopecks. */
const MAX_MONEY = 9_999_999_999;
/** A receipt of more lines is almost certainly a bug upstream; the FN takes long receipts slowly. */
const MAX_ITEMS = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9]{10,15}$/;

function isMoney(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_MONEY;
}


/** 0.35 → 350000; null when the number has more than 6 decimals or is out of range. */
export function toMicro(quantity: number): number | null {
  if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity <= 0) return null;
  // At most 6 decimals: quantity × 10⁶ must be a whole number but for binary noise (0.1 + 0.2,
  // 8192.2 × 10⁶ = 8192200000.000001). The noise is far below 10⁻³ up to the ceiling (10⁵),
  // while a 7th decimal leaves at least 0.1.
  const scaled = quantity * 1_000_000;
  const micro = Math.round(scaled);
  if (Math.abs(scaled - micro) > 1e-3) return null;
  // 6 bytes on the wire; a practical ceiling far below it keeps line amounts within 5 bytes too.
  if (micro < 1 || micro > 99_999_000_000) return null;
  return micro;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

export function validateReceiptInput(
  input: ReceiptInput,
  opts: { vatCodes: VatCodeTable; registerCheck?: RegisterInputCheck | null },
): ValidatedReceipt {
  const problems: FieldProblem[] = [];
  const bad = (field: string, message: string) => problems.push({ field, message });

  const clientUuid = typeof input.clientUuid === 'string' ? input.clientUuid.trim().toLowerCase() : '';
  if (!UUID.test(clientUuid)) bad('clientUuid', 'must be a UUID such as 4f1c2a9e-8d4b-4c51-9a67-2f0e3b5d7c19');
  const operation = input.operation ?? 'sale';
  if (!oneOf(operation, RECEIPT_OPERATIONS)) bad('operation', `must be one of ${RECEIPT_OPERATIONS.join(', ')}`);
  if (!oneOf(input.taxSystem, TAX_SYSTEMS)) bad('taxSystem', `must be one of ${TAX_SYSTEMS.join(', ')}`);

  const items: StoredReceiptItem[] = [];
  const printItems: ReceiptItemToPrint[] = [];
  if (!Array.isArray(input.items) || input.items.length === 0) bad('items', 'a receipt needs at least one item');
  else if (input.items.length > MAX_ITEMS) bad('items', `at most ${MAX_ITEMS} items per receipt`);
  else {
    input.items.forEach((it, i) => {
      const f = (k: string) => `items.${i}.${k}`;
      const before = problems.length;
      const name = typeof it.name === 'string' ? it.name.trim() : '';
      if (!name) bad(f('name'), 'required');
      if (!isMoney(it.priceMinor)) bad(f('priceMinor'), `must be an integer number of kopecks from 0 to ${MAX_MONEY}`);
      const micro = toMicro(it.quantity);
      if (micro === null) bad(f('quantity'), 'must be a positive number with at most 6 decimals, at most 99 999');
      if (!oneOf(it.vat, VAT_RATES)) bad(f('vat'), `must be one of ${VAT_RATES.join(', ')}`);
      else if (opts.vatCodes[it.vat] === undefined) {
        bad(f('vat'), `${it.vat} is not in the register's VAT table (KKT_MODEL / KKT_VAT_CODES)`);
      }
      const method = it.paymentMethod ?? 'full_payment';
      if (!oneOf(method, Object.keys(PAYMENT_METHODS) as PaymentMethod[])) bad(f('paymentMethod'), `must be one of ${Object.keys(PAYMENT_METHODS).join(', ')}`);
      const subject = it.paymentSubject ?? 'commodity';
      if (!oneOf(subject, Object.keys(PAYMENT_SUBJECTS) as PaymentSubject[])) bad(f('paymentSubject'), `must be one of ${Object.keys(PAYMENT_SUBJECTS).join(', ')}`);
      const unit = it.unit ?? null;
      if (unit !== null && !oneOf(unit, Object.keys(MEASURE_UNITS) as MeasureUnit[])) bad(f('unit'), `must be one of ${Object.keys(MEASURE_UNITS).join(', ')}`);
      const dept = it.department ?? null;
      if (dept !== null && !(Number.isInteger(dept) && dept >= 0 && dept <= 16)) bad(f('department'), 'must be 0…16');
      if (problems.length > before) return;
      const amountMinor = roundHalfUpAmount(it.priceMinor, micro!);
      if (amountMinor > MAX_MONEY) {
        bad(f('quantity'), 'price × quantity exceeds the largest amount a register accepts');
        return;
      }
      items.push({
        name, priceMinor: it.priceMinor, quantity: micro! / 1_000_000, amountMinor, vat: it.vat,
        paymentMethod: method as PaymentMethod, paymentSubject: subject as PaymentSubject, unit: unit as MeasureUnit | null, department: dept,
      });
      printItems.push({
        name, priceMinor: it.priceMinor, quantityMicro: micro!, amountMinor, vat: it.vat,
        paymentMethod: PAYMENT_METHODS[method as PaymentMethod], paymentSubject: PAYMENT_SUBJECTS[subject as PaymentSubject],
        ...(unit !== null ? { unit: MEASURE_UNITS[unit as MeasureUnit] } : {}),
        ...(dept !== null ? { department: dept } : {}),
      });
    });
  }

  const totalMinor = items.reduce((s, it) => s + it.amountMinor, 0);
  if (problems.length === 0 && totalMinor === 0) bad('items', 'the receipt total is zero (a register refuses it: 8Eh)');
  if (totalMinor > MAX_MONEY) bad('items', 'the receipt total exceeds the largest amount a register accepts');
  if (input.totalMinor != null && problems.length === 0 && input.totalMinor !== totalMinor) {
    bad('totalMinor', `is ${input.totalMinor} but the items add up to ${totalMinor}`);
  }

  // Payments: one line per type; change can only come out of cash.
  const byType = new Map<PaymentType, number>();
  if (!Array.isArray(input.payments) || input.payments.length === 0) bad('payments', 'at least one payment is required');
  else {
    input.payments.forEach((p, i) => {
      if (!oneOf(p.type, PAYMENT_TYPES)) bad(`payments.${i}.type`, `must be one of ${PAYMENT_TYPES.join(', ')}`);
      else if (byType.has(p.type)) bad(`payments.${i}.type`, `${p.type} is given twice; give one line per type`);
      if (!isMoney(p.amountMinor) || p.amountMinor === 0) bad(`payments.${i}.amountMinor`, `must be a positive integer number of kopecks, at most ${MAX_MONEY}`);
      if (oneOf(p.type, PAYMENT_TYPES) && isMoney(p.amountMinor)) byType.set(p.type, p.amountMinor);
    });
  }
  const paid = [...byType.values()].reduce((s, v) => s + v, 0);
  const cash = byType.get('cash') ?? 0;
  let changeMinor = 0;
  if (problems.length === 0) {
    if (paid < totalMinor) bad('payments', `add up to ${paid} but the receipt total is ${totalMinor}`);
    else if (paid - cash > totalMinor) bad('payments', `other than cash (${paid - cash}) exceed the receipt total (${totalMinor}); only cash can give change`);
    else changeMinor = paid - totalMinor;
  }

  const contact = input.customerContact?.trim() || null;
  if (contact !== null && (contact.length > 64 || !(EMAIL.test(contact) || PHONE.test(contact.replace(/[\s()-]/g, ''))))) {
    bad('customerContact', 'must be an e-mail address or a phone number (+79161234567), at most 64 characters');
  }
  const cashier = input.cashierName?.trim() || null;
  if (cashier !== null && cashier.length > 64) bad('cashierName', 'at most 64 characters');

  if (problems.length) throw AppError.badInput(`Invalid receipt: ${problems[0].field} ${problems[0].message}`, problems);

  const printPayload: ReceiptToPrint = {
    operation: operation as ReceiptOperation,
    taxSystem: input.taxSystem,
    items: printItems,
    payments: [...byType.entries()].map(([type, amountMinor]) => ({ type, amountMinor })),
    customerContact: contact !== null && PHONE.test(contact.replace(/[\s()-]/g, '')) ? contact.replace(/[\s()-]/g, '') : contact,
    cashierName: cashier,
    totalMinor,
  };
  const deviceProblems = opts.registerCheck?.(printPayload) ?? [];
  if (deviceProblems.length) {
    throw AppError.badInput(`The register cannot print this receipt: ${deviceProblems[0].field} ${deviceProblems[0].message}`, deviceProblems);
  }
  return {
    clientUuid,
    operation: operation as ReceiptOperation,
    taxSystem: input.taxSystem,
    items,
    payments: printPayload.payments,
    totalMinor,
    changeMinor,
    customerContact: printPayload.customerContact ?? null,
    cashierName: cashier,
    printPayload,
  };
}
