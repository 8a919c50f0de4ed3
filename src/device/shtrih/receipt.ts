/**
 * Receipt → Shtrih command mapping (operation codes, payment slots, tax-system bits) and the
 * intake check `validateReceiptForDevice`, which finds everything the device would refuse or
 * the frames could not carry, field by field, before anything is sent.
 */
import type { FieldProblem } from '../../errors';
import {
  DeviceError,
  type PaymentType,
  type ReceiptOperation,
  type ReceiptToPrint,
  type TaxSystem,
  type VatCodeTable,
} from '../register';
import { MAX_MONEY, MAX_QUANTITY_MICRO, encodeCp1251, encodeCp866, EncodingError } from './codec';
import { MAX_NAME_BYTES, PAYMENT_SLOTS } from './commands';

/** 8Dh receipt type. */
export const RECEIPT_TYPE: Record<ReceiptOperation, number> = { sale: 0, purchase: 1, sale_return: 2, purchase_return: 3 };
/** FF46h operation type = tag 1054 calculation sign. */
export const OPERATION_TYPE: Record<ReceiptOperation, number> = { sale: 1, sale_return: 2, purchase: 3, purchase_return: 4 };
/** FF45h payment slot (1-based). */
export const PAYMENT_SLOT: Record<PaymentType, number> = { cash: 1, electronic: 2, prepaid: 14, credit: 15, counter_provision: 16 };
/** Tag 1055 / FF45h tax-system bit. */
export const TAX_SYSTEM_BIT: Record<TaxSystem, number> = { osn: 0x01, usn_income: 0x02, usn_income_outcome: 0x04, eshn: 0x10, patent: 0x20 };

/** Tags 1008 (customer contact) and 1021 (cashier) hold at most 64 characters. */
export const MAX_CONTACT_CHARS = 64;
export const MAX_CASHIER_CHARS = 64;
/** FF46h fields are all one byte; department 0…16 on the device. */
export const MAX_DEPARTMENT = 16;

export interface ValidateOptions {
  /** Most payment entries accepted (they are merged into 16 FF45h slots). */
  maxPayments?: number;
}

export function roundHalfUpAmount(priceMinor: number, quantityMicro: number): number {
  const p = BigInt(priceMinor) * BigInt(quantityMicro);
  return Number((p + 500_000n) / 1_000_000n);
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

/**
 * Everything the device would refuse, per field; an empty list means the receipt can be sent.
 * Checks: names encodable in CP1251 and ≤ 128 bytes, VAT rate present in the model table,
 * quantities/prices/amounts in range, payment types and count, payments cover the total,
 * non-cash not above the total, non-zero total equal to the item sum, contact and cashier
 * ≤ 64 characters and encodable in CP866 (FN TLV strings), tag values in range.
 */
export function validateReceiptForDevice(receipt: ReceiptToPrint, vatTable: VatCodeTable, options: ValidateOptions = {}): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field, message });
  const maxPayments = options.maxPayments ?? PAYMENT_SLOTS;

  if (!(receipt.operation in OPERATION_TYPE)) add('operation', `unknown operation ${JSON.stringify(receipt.operation)}`);
  if (!(receipt.taxSystem in TAX_SYSTEM_BIT)) add('taxSystem', `unknown tax system ${JSON.stringify(receipt.taxSystem)}`);
  if (!Array.isArray(receipt.items) || receipt.items.length === 0) add('items', 'a receipt needs at least one item');

  let itemSum = 0;
  (receipt.items ?? []).forEach((item, i) => {
    const f = (name: string) => `items.${i}.${name}`;
    if (typeof item.name !== 'string') add(f('name'), 'name must be a string');
    else {
      try {
        encodeCp1251(item.name, f('name'), MAX_NAME_BYTES);
      } catch (e) {
        add(f('name'), e instanceof EncodingError ? e.message.replace(`${f('name')}: `, '') : String(e));
      }
    }
    if (!isInt(item.priceMinor, 0, MAX_MONEY)) add(f('priceMinor'), `price must be an integer number of kopecks in 0…${MAX_MONEY}`);
    if (!isInt(item.quantityMicro, 1, MAX_QUANTITY_MICRO)) add(f('quantityMicro'), `quantity must be an integer number of millionths in 1…${MAX_QUANTITY_MICRO}`);
    if (!isInt(item.amountMinor, 0, MAX_MONEY)) add(f('amountMinor'), `amount must be an integer number of kopecks in 0…${MAX_MONEY}`);
    else itemSum += item.amountMinor;
    if (vatTable[item.vat] === undefined) add(f('vat'), `VAT rate ${JSON.stringify(item.vat)} is not in this device model's VAT table`);
    if (!isInt(item.paymentMethod, 1, 7)) add(f('paymentMethod'), 'payment method (tag 1214) must be 1…7');
    if (!isInt(item.paymentSubject, 1, 255)) add(f('paymentSubject'), 'payment subject (tag 1212) must be 1…255');
    if (item.department !== undefined && !isInt(item.department, 0, MAX_DEPARTMENT)) add(f('department'), `department must be 0…${MAX_DEPARTMENT}`);
    if (item.unit !== undefined && !isInt(item.unit, 0, 255)) add(f('unit'), 'unit (tag 2108) must be 0…255');
  });

  if (!isInt(receipt.totalMinor, 0, MAX_MONEY)) add('totalMinor', `total must be an integer number of kopecks in 0…${MAX_MONEY}`);
  else {
    if (receipt.totalMinor === 0) add('totalMinor', 'zero receipt total');
    if (problems.every((p) => !p.field.endsWith('amountMinor')) && itemSum !== receipt.totalMinor) {
      add('totalMinor', `total ${receipt.totalMinor} differs from the sum of item amounts ${itemSum}`);
    }
  }

  const payments = Array.isArray(receipt.payments) ? receipt.payments : [];
  if (payments.length === 0) add('payments', 'at least one payment is needed');
  if (payments.length > maxPayments) add('payments', `${payments.length} payments, at most ${maxPayments}`);
  let paid = 0;
  let nonCash = 0;
  payments.forEach((p, i) => {
    if (!(p.type in PAYMENT_SLOT)) add(`payments.${i}.type`, `unknown payment type ${JSON.stringify(p.type)}`);
    if (!isInt(p.amountMinor, 0, MAX_MONEY)) add(`payments.${i}.amountMinor`, `amount must be an integer number of kopecks in 0…${MAX_MONEY}`);
    else {
      paid += p.amountMinor;
      if (p.type !== 'cash') nonCash += p.amountMinor;
    }
  });
  if (paid > MAX_MONEY) add('payments', 'sum of payments out of range');
  if (isInt(receipt.totalMinor, 1, MAX_MONEY)) {
    if (paid < receipt.totalMinor) add('payments', `sum of payments ${paid} is less than the total ${receipt.totalMinor}`);
    if (nonCash > receipt.totalMinor) add('payments', `non-cash payments ${nonCash} exceed the total ${receipt.totalMinor} (change is given from cash only)`);
  }

  const text = (field: string, v: string | null | undefined, maxChars: number) => {
    if (v === undefined || v === null) return;
    if (typeof v !== 'string') return add(field, 'must be a string');
    if ([...v].length > maxChars) add(field, `${[...v].length} characters, at most ${maxChars}`);
    try {
      encodeCp866(v, field);
    } catch (e) {
      add(field, e instanceof EncodingError ? e.message.replace(`${field}: `, '') : String(e));
    }
  };
  text('customerContact', receipt.customerContact, MAX_CONTACT_CHARS);
  text('cashierName', receipt.cashierName, MAX_CASHIER_CHARS);
  return problems;
}

/**
 * Thrown by print() for a receipt the device cannot take, before anything is sent; a
 * DeviceError of kind 'business' (code 0: no device error code), so the service dead-letters it.
 */
export class ReceiptValidationError extends DeviceError {
  readonly problems: FieldProblem[];
  /** Always true: nothing was sent to the device. */
  readonly rejectedBeforeSending = true;
  constructor(problems: FieldProblem[], command = 0) {
    const text = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    super(0, command, 'business', `rejected before sending: ${text}`);
    this.problems = problems;
    this.message = `receipt rejected before sending: ${text}`;
  }
}

/** Throws ReceiptValidationError when validateReceiptForDevice finds problems. */
export function assertReceiptForDevice(receipt: ReceiptToPrint, vatTable: VatCodeTable, options?: ValidateOptions): void {
  const problems = validateReceiptForDevice(receipt, vatTable, options);
  if (problems.length) throw new ReceiptValidationError(problems);
}

/** Payments merged into the 16 FF45h slots (index 0 = slot 1). */
export function paymentSlots(payments: ReceiptToPrint['payments']): number[] {
  const slots = new Array<number>(PAYMENT_SLOTS).fill(0);
  for (const p of payments) slots[PAYMENT_SLOT[p.type] - 1] += p.amountMinor;
  return slots;
}
