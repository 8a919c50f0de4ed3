/**
 * Encoders for the commands the driver sends and decoders for their answers (reference §1.5).
 * An encoder returns the command code, its DATA (password included) and the timeout class;
 * a decoder takes the answer DATA after the code and error bytes. Encoders reject what the
 * device could not take (frame LEN > 255, name > 128 bytes, text > 64 bytes, characters
 * outside CP1251) with an EncodingError naming the field, before anything is sent.
 */
import {
  EncodingError,
  MAX_FRAME_LEN,
  MONEY_AUTO,
  commandBytes,
  decodeCp1251,
  decodeDateTime,
  decodeMoney,
  decodeUInt,
  encodeCp1251,
  encodeMoney,
  encodePassword,
  encodeQuantity6,
  encodeUInt,
} from './codec';

export const CMD = {
  SHORT_STATUS: 0x10,
  OPEN_SHIFT: 0xe0,
  X_REPORT: 0x40,
  Z_REPORT: 0x41,
  CLOSE_RECEIPT_LEGACY: 0x85,
  CANCEL_RECEIPT: 0x88,
  OPEN_RECEIPT: 0x8d,
  CONTINUE_PRINT: 0xb0,
  DEVICE_TYPE: 0xfc,
  FN_STATUS: 0xff01,
  FN_FIND_DOCUMENT: 0xff0a,
  FN_SEND_TLV: 0xff0c,
  FN_OFD_STATUS: 0xff39,
  FN_SHIFT_PARAMS: 0xff40,
  FN_CLOSE_RECEIPT: 0xff45,
  FN_OPERATION: 0xff46,
  FN_SEND_ITEM_TLV: 0xff4d,
} as const;

export const COMMAND_NAMES: Record<number, string> = {
  0x10: 'short status',
  0x11: 'full status',
  0xe0: 'open shift',
  0x40: 'X report',
  0x41: 'Z report',
  0x85: 'close receipt (legacy)',
  0x88: 'cancel receipt',
  0x8d: 'open receipt',
  0xb0: 'continue printing',
  0xfc: 'device type',
  0xff01: 'FN status',
  0xff0a: 'find fiscal document',
  0xff0c: 'send TLV',
  0xff39: 'OFD exchange status',
  0xff40: 'shift parameters',
  0xff45: 'close receipt',
  0xff46: 'operation V2',
  0xff4d: 'send item TLV',
};

/** Which entry of the per-command timeout table applies. */
export type TimeoutClass = 'default' | 'xReport' | 'zReport' | 'openShift';

export interface CommandRequest {
  code: number;
  data: Buffer;
  timeout: TimeoutClass;
}

/** Answer DATA after the code and error bytes. */
export interface Answer {
  code: number;
  error: number;
  data: Buffer;
}

function req(code: number, data: Buffer, timeout: TimeoutClass = 'default'): CommandRequest {
  const len = commandBytes(code).length + data.length;
  if (len > MAX_FRAME_LEN) throw new EncodingError('frame', `command ${code.toString(16).toUpperCase()}h would be ${len} bytes, LEN at most ${MAX_FRAME_LEN}`);
  return { code, data, timeout };
}

function need(data: Buffer, size: number, what: string): void {
  if (data.length < size) throw new EncodingError('answer', `${what}: answer has ${data.length} bytes, expected at least ${size}`);
}

// ---------------------------------------------------------------- 10h short status

export const shortStatus = (pwd: number) => req(CMD.SHORT_STATUS, encodePassword(pwd));

export interface ShortStatus {
  operator: number;
  flags: number;
  /** Full status byte: low nibble mode, high nibble sub-status (8.x). */
  modeByte: number;
  mode: number;
  subMode: number;
  operationsInReceipt: number;
  batteryVoltage: number;
  supplyVoltage: number;
  previousMode: number;
  lastPrintResult: number;
}

export function decodeShortStatus(d: Buffer): ShortStatus {
  need(d, 14, '10h');
  return {
    operator: d[0]!,
    flags: d.readUInt16LE(1),
    modeByte: d[3]!,
    mode: d[3]! & 0x0f,
    subMode: d[4]!,
    operationsInReceipt: d[5]! | (d[10]! << 8),
    batteryVoltage: d[6]!,
    supplyVoltage: d[7]!,
    previousMode: d[11]!,
    lastPrintResult: d[13]!,
  };
}

/** 10h flags: receipt roll present (bit 1) and receipt paper sensor (bit 7). */
export const FLAG_RECEIPT_ROLL = 0x0002;
export const FLAG_RECEIPT_SENSOR = 0x0080;

// ---------------------------------------------------------------- FF01h FN status

export const fnStatus = (pwd: number) => req(CMD.FN_STATUS, encodePassword(pwd));

export interface FnStatus {
  lifePhase: number;
  /** 00 none, 01 registration report, 02 shift-open, 04 receipt, 08 shift-close, … */
  currentDocument: number;
  documentData: number;
  shiftOpen: boolean;
  warnings: number;
  dateTime: string | null;
  serial: string;
  lastFiscalDocumentNumber: number;
}

export function decodeFnStatus(d: Buffer): FnStatus {
  need(d, 30, 'FF01h');
  return {
    lifePhase: d[0]!,
    currentDocument: d[1]!,
    documentData: d[2]!,
    shiftOpen: d[3]! !== 0,
    warnings: d[4]!,
    dateTime: decodeDateTime(d, 5),
    serial: d.subarray(10, 26).toString('latin1').replace(/\0+$/, '').trim(),
    lastFiscalDocumentNumber: d.readUInt32LE(26),
  };
}

export const FN_DOC_RECEIPT = 0x04;

// ---------------------------------------------------------------- FF40h shift parameters

export const shiftParams = (pwd: number) => req(CMD.FN_SHIFT_PARAMS, encodePassword(pwd));

export interface ShiftParams {
  shiftOpen: boolean;
  shiftNumber: number;
  receiptNumber: number;
}

export function decodeShiftParams(d: Buffer): ShiftParams {
  need(d, 5, 'FF40h');
  return { shiftOpen: d[0]! !== 0, shiftNumber: d.readUInt16LE(1), receiptNumber: d.readUInt16LE(3) };
}

// ---------------------------------------------------------------- FF39h OFD status

export const ofdStatus = (pwd: number) => req(CMD.FN_OFD_STATUS, encodePassword(pwd));

export interface OfdStatus {
  status: number;
  readInProgress: boolean;
  queuedMessages: number;
  firstUnsentFiscalDocumentNumber: number;
  firstUnsentDateTime: string | null;
}

export function decodeOfdStatus(d: Buffer): OfdStatus {
  need(d, 13, 'FF39h');
  return {
    status: d[0]!,
    readInProgress: d[1]! !== 0,
    queuedMessages: d.readUInt16LE(2),
    firstUnsentFiscalDocumentNumber: d.readUInt32LE(4),
    firstUnsentDateTime: decodeDateTime(d, 8),
  };
}

// ---------------------------------------------------------------- operator-only answers

export const openShift = (pwd: number) => req(CMD.OPEN_SHIFT, encodePassword(pwd), 'openShift');
export const xReport = (pwd: number) => req(CMD.X_REPORT, encodePassword(pwd), 'xReport');
export const zReport = (pwd: number) => req(CMD.Z_REPORT, encodePassword(pwd), 'zReport');
export const cancelReceipt = (pwd: number) => req(CMD.CANCEL_RECEIPT, encodePassword(pwd));
export const continuePrint = (pwd: number) => req(CMD.CONTINUE_PRINT, encodePassword(pwd));

/** 8Dh receipt type: 0 sale (приход), 1 purchase (расход), 2 return of sale, 3 return of purchase. */
export function openReceipt(pwd: number, receiptType: number): CommandRequest {
  return req(CMD.OPEN_RECEIPT, Buffer.concat([encodePassword(pwd), encodeUInt(receiptType, 1, 'receiptType')]));
}

export function decodeOperator(d: Buffer): { operator: number } {
  return { operator: d[0] ?? 0 };
}

// ---------------------------------------------------------------- FF46h operation V2

export const MAX_NAME_BYTES = 128;

export interface OperationV2 {
  /** 1 приход, 2 возврат прихода, 3 расход, 4 возврат расхода. */
  opType: number;
  quantityMicro: number;
  priceMinor: number;
  /** Item sum; omitted = FF×5, the device computes it. */
  amountMinor?: number;
  /** Tax sum; omitted = FF×5, the device computes it. */
  taxMinor?: number;
  vatCode: number;
  department: number;
  paymentMethod: number;
  paymentSubject: number;
  name: string;
}

export function operationV2(pwd: number, op: OperationV2): CommandRequest {
  return req(
    CMD.FN_OPERATION,
    Buffer.concat([
      encodePassword(pwd),
      encodeUInt(op.opType, 1, 'opType'),
      encodeQuantity6(op.quantityMicro, 'quantity'),
      encodeMoney(op.priceMinor, 'price'),
      op.amountMinor === undefined ? MONEY_AUTO : encodeMoney(op.amountMinor, 'amount'),
      op.taxMinor === undefined ? MONEY_AUTO : encodeMoney(op.taxMinor, 'tax'),
      encodeUInt(op.vatCode, 1, 'vat'),
      encodeUInt(op.department, 1, 'department'),
      encodeUInt(op.paymentMethod, 1, 'paymentMethod'),
      encodeUInt(op.paymentSubject, 1, 'paymentSubject'),
      encodeCp1251(op.name, 'name', MAX_NAME_BYTES),
    ]),
  );
}

// ---------------------------------------------------------------- FF0Ch / FF4Dh TLV

export const MAX_TLV_BYTES = 250;

function tlvCommand(code: number, pwd: number, tlvBytes: Buffer): CommandRequest {
  if (tlvBytes.length > MAX_TLV_BYTES) throw new EncodingError('tlv', `${tlvBytes.length} bytes, at most ${MAX_TLV_BYTES}`);
  return req(code, Buffer.concat([encodePassword(pwd), tlvBytes]));
}

export const sendTlv = (pwd: number, tlvBytes: Buffer) => tlvCommand(CMD.FN_SEND_TLV, pwd, tlvBytes);
export const sendItemTlv = (pwd: number, tlvBytes: Buffer) => tlvCommand(CMD.FN_SEND_ITEM_TLV, pwd, tlvBytes);

// ---------------------------------------------------------------- FF45h close receipt ext. v2

export const PAYMENT_SLOTS = 16;
export const MAX_CLOSE_TEXT_BYTES = 64;

export interface CloseReceiptV2 {
  /** 16 payment sums in kopecks; slot 1 is index 0. Missing slots are zero. */
  payments: number[];
  /** Rounding in kopecks, 0…99. */
  rounding?: number;
  /** Six tax totals (ignored by the device when it computes VAT itself); zeros by default. */
  taxes?: number[];
  /** Tax-system bitmask (exactly one bit). */
  taxSystem: number;
  /** Printed text, 0…64 bytes CP1251. */
  text?: string;
}

export function closeReceiptV2(pwd: number, c: CloseReceiptV2): CommandRequest {
  if (c.payments.length > PAYMENT_SLOTS) throw new EncodingError('payments', `${c.payments.length} slots, at most ${PAYMENT_SLOTS}`);
  const pays = Array.from({ length: PAYMENT_SLOTS }, (_, i) => encodeMoney(c.payments[i] ?? 0, `payments.${i + 1}`));
  const taxes = Array.from({ length: 6 }, (_, i) => encodeMoney(c.taxes?.[i] ?? 0, `taxes.${i + 1}`));
  const rounding = c.rounding ?? 0;
  if (!Number.isInteger(rounding) || rounding < 0 || rounding > 99) throw new EncodingError('rounding', `${rounding} not in 0…99`);
  return req(
    CMD.FN_CLOSE_RECEIPT,
    Buffer.concat([
      encodePassword(pwd),
      ...pays,
      Buffer.from([rounding]),
      ...taxes,
      encodeUInt(c.taxSystem, 1, 'taxSystem'),
      encodeCp1251(c.text ?? '', 'text', MAX_CLOSE_TEXT_BYTES),
    ]),
  );
}

export interface CloseReceiptAnswer {
  changeMinor: number;
  fiscalDocumentNumber: number;
  /** ФП: 4-byte number. */
  fiscalSign: number;
  /** Present when the device's "extended answers" setting is on. */
  dateTime: string | null;
}

export function decodeCloseReceipt(d: Buffer): CloseReceiptAnswer {
  need(d, 13, 'FF45h');
  return {
    changeMinor: decodeMoney(d, 0),
    fiscalDocumentNumber: d.readUInt32LE(5),
    fiscalSign: d.readUInt32LE(9),
    dateTime: d.length >= 18 ? decodeDateTime(d, 13) : null,
  };
}

// ---------------------------------------------------------------- FF0Ah find document

export function findDocument(pwd: number, fd: number): CommandRequest {
  return req(CMD.FN_FIND_DOCUMENT, Buffer.concat([encodePassword(pwd), encodeUInt(fd, 4, 'fiscalDocumentNumber')]));
}

/** FN document types (FF0Ah byte 0). */
export const FN_DOCUMENT_TYPE = {
  REGISTRATION: 1,
  SHIFT_OPEN: 2,
  RECEIPT: 3,
  BSO: 4,
  SHIFT_CLOSE: 5,
  FISCAL_MODE_CLOSE: 6,
  CORRECTION_RECEIPT: 31,
} as const;

export interface FoundDocument {
  documentType: number;
  ofdReceiptReceived: boolean;
  dateTime: string | null;
  fiscalDocumentNumber: number;
  fiscalSign: number;
  /** Receipts: tag 1054 (1 приход, 2 возврат прихода, 3 расход, 4 возврат расхода). */
  opType?: number;
  totalMinor?: number;
  /** Shift documents. */
  shiftNumber?: number;
}

export function decodeFindDocument(d: Buffer): FoundDocument {
  need(d, 15, 'FF0Ah');
  const doc: FoundDocument = {
    documentType: d[0]!,
    ofdReceiptReceived: d[1]! !== 0,
    dateTime: decodeDateTime(d, 2),
    fiscalDocumentNumber: d.readUInt32LE(7),
    fiscalSign: d.readUInt32LE(11),
  };
  if ((doc.documentType === FN_DOCUMENT_TYPE.RECEIPT || doc.documentType === FN_DOCUMENT_TYPE.BSO || doc.documentType === FN_DOCUMENT_TYPE.CORRECTION_RECEIPT) && d.length >= 21) {
    doc.opType = d[15]!;
    doc.totalMinor = decodeMoney(d, 16);
  } else if ((doc.documentType === FN_DOCUMENT_TYPE.SHIFT_OPEN || doc.documentType === FN_DOCUMENT_TYPE.SHIFT_CLOSE) && d.length >= 17) {
    doc.shiftNumber = d.readUInt16LE(15);
  }
  return doc;
}

// ---------------------------------------------------------------- FCh device type

export const deviceType = () => req(CMD.DEVICE_TYPE, Buffer.alloc(0));

export interface DeviceType {
  type: number;
  subtype: number;
  protocolVersion: number;
  protocolSubversion: number;
  model: number;
  language: number;
  name: string;
}

export function decodeDeviceType(d: Buffer): DeviceType {
  need(d, 6, 'FCh');
  return {
    type: d[0]!,
    subtype: d[1]!,
    protocolVersion: d[2]!,
    protocolSubversion: d[3]!,
    model: d[4]!,
    language: d[5]!,
    name: decodeCp1251(d.subarray(6)).replace(/\0+$/, ''),
  };
}

