/**
 * The boundary between the receipt service (src/services/receipts*) and a fiscal register
 * driver. The service owns durability (what is committed before which device action); a
 * driver owns the device dialogue (link layer, command order, busy waits, shift fixes) and
 * the device-side half of reconciliation. Shtrih-M is the first implementation
 * (src/device/shtrih/); ATOL can follow behind the same interface.
 *
 * Money is always integer minor units (kopecks); quantities are integer millionths
 * (1 piece = 1_000_000), the precision of FF46h, so no float ever reaches the wire.
 */

/** Tag 1054, "calculation sign". */
export type ReceiptOperation = 'sale' | 'sale_return' | 'purchase' | 'purchase_return';

/** Tag 1055; exactly one per receipt. (ЕНВД was abolished in 2021 and is not offered.) */
export type TaxSystem = 'osn' | 'usn_income' | 'usn_income_outcome' | 'eshn' | 'patent';

/**
 * VAT rate as tag 1199 names it. The byte sent in FF46h differs per device model and is
 * configuration (see VatCodeTable), never hard-coded in the service.
 */
export type VatRate =
  | 'vat22' | 'vat20' | 'vat10' | 'vat7' | 'vat5' | 'vat0' | 'none'
  | 'vat22_122' | 'vat20_120' | 'vat10_110' | 'vat7_107' | 'vat5_105';

/** Tag 1199 value of each rate (FNS order ЕД-7-20/1050@ adds 11 and 12 from 2026). */
export const VAT_TAG_1199: Record<VatRate, number> = {
  vat20: 1, vat10: 2, vat20_120: 3, vat10_110: 4, vat0: 5, none: 6,
  vat5: 7, vat7: 8, vat5_105: 9, vat7_107: 10, vat22: 11, vat22_122: 12,
};

/** Device byte per rate; a rate missing from the table cannot be printed on that model. */
export type VatCodeTable = Partial<Record<VatRate, number>>;

export type PaymentType = 'cash' | 'electronic' | 'prepaid' | 'credit' | 'counter_provision';

export interface ReceiptItemToPrint {
  name: string;
  priceMinor: number;
  /** Millionths of a unit: 1.5 kg = 1_500_000. */
  quantityMicro: number;
  /** price × quantity rounded half-up to kopecks, as the caller computed and validated it. */
  amountMinor: number;
  vat: VatRate;
  /** Tag 1214, 1…7 (4 = full payment). */
  paymentMethod: number;
  /** Tag 1212 (1 goods, 3 work, 4 service, …). */
  paymentSubject: number;
  /** Tag 2108 (FFD 1.2; 0 = pieces); omitted for FFD 1.05. */
  unit?: number;
  /** Device department/section, 0…16. */
  department?: number;
}

export interface ReceiptToPrint {
  operation: ReceiptOperation;
  taxSystem: TaxSystem;
  items: ReceiptItemToPrint[];
  payments: Array<{ type: PaymentType; amountMinor: number }>;
  /** Tag 1008: e-mail or phone for the electronic receipt. */
  customerContact?: string | null;
  /** Tag 1021. */
  cashierName?: string | null;
  /** Sum of item amounts; what reconciliation compares FF0Ah's total with. */
  totalMinor: number;
}

/** What the device said it made. */
export interface FiscalResult {
  fiscalDocumentNumber: number;
  /** ФП as printed: the 4-byte number in decimal. */
  fiscalSign: string;
  /** Device date-time of the document (ISO-8601, device local time taken as UTC) if known. */
  fiscalDateTime: string | null;
  shiftNumber: number | null;
  receiptNumber: number | null;
  changeMinor: number;
}

/** FN and device state as read by 10h + FF01h (+ FF40h). */
export interface RegisterState {
  fnSerial: string;
  /** Last fiscal document number in the FN: the next receipt gets lastFiscalDocumentNumber + 1. */
  lastFiscalDocumentNumber: number;
  mode: number;
  subMode: number;
  shiftOpen: boolean;
  shiftNumber: number;
  /** Shift older than 24 h (mode 3): only a Z report is allowed. */
  shiftExpired: boolean;
  /** A document (receipt) is open in the FN or the device is in mode 8. */
  documentOpen: boolean;
  /** FF01h warning flags, decoded. */
  warnings: { fnExpiresSoon: boolean; fnArchiveNearlyFull: boolean; ofdTimeout: boolean };
  paperPresent: boolean;
}

/** The receipt the service is sure about, to compare with what the device holds. */
export interface ReconcileRequest {
  /** FD number recorded before printing (lastFiscalDocumentNumber + 1 at reserve time). */
  expectedFiscalDocumentNumber: number;
  fnSerial: string;
  operation: ReceiptOperation;
  totalMinor: number;
}

export type ReconcileOutcome =
  /** The receipt is in the FN: mark it fiscalised with these data. */
  | { kind: 'fiscalised'; result: FiscalResult }
  /** The receipt is not in the FN and nothing is left open: printing it again is safe. */
  | { kind: 'not_printed' }
  /** Cannot be decided (FD number jumped by a foreign document, FN replaced, no match). */
  | { kind: 'ambiguous'; reason: string };

/** How the service treats a refused command. */
export type DeviceErrorKind =
  /** Bad data or a command the device will never accept as sent: dead-letter. */
  | 'business'
  /** Needs an operator (paper out, cover open): keep the receipt queued, try later. */
  | 'operator'
  /** Device/FN cannot form documents (FN exhausted, 30-day OFD block, hardware): stop, alert. */
  | 'hard'
  /** Device in a state the driver could not fix (e.g. mode mismatch after a fix): retry later. */
  | 'state';

/** The device answered with a non-zero error code. The command was NOT executed. */
export class DeviceError extends Error {
  override readonly name = 'DeviceError';
  constructor(
    readonly code: number,
    /** Command code, e.g. 0xff46. */
    readonly command: number,
    readonly kind: DeviceErrorKind,
    readonly text: string,
  ) {
    super(`register refused command ${command.toString(16).toUpperCase()}h: ${code.toString(16).toUpperCase().padStart(2, '0')}h ${text}`);
  }
}

/**
 * No usable answer (port gone, timeouts, link retries exhausted). When `outcomeUnknown`,
 * the command may have been executed: the caller must reconcile, never blindly resend.
 */
export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(message: string, readonly outcomeUnknown: boolean) {
    super(message);
  }
}

/**
 * One fiscal register. Calls are serialised by the implementation (one command in flight per
 * port); the service additionally runs one worker per register.
 */
export interface FiscalRegister {
  /** Opens the port (or TCP socket). Idempotent. */
  open(): Promise<void>;
  /** Closes the port; a pending command is abandoned (its answer stays in the device). */
  close(): Promise<void>;
  /** 10h + FF01h (+ FF40h): no state change on the device. */
  state(): Promise<RegisterState>;
  /**
   * Makes the device ready to print a receipt and returns its state afterwards: waits out
   * busy (50h, sub-mode 4/5), sends B0h when waiting for continue-print, Z + open shift when
   * the shift is over 24 h, opens a closed shift, cancels (88h) an orphan open receipt. A
   * stale pending answer found on the link is kept for reconcile(), not lost. (Closing a
   * shift *before* its 24 h is the service's decision: it knows when it opened the shift.)
   */
  prepare(): Promise<RegisterState>;
  /** 8Dh → FF0Ch (receipt TLVs) → FF46h per item (+FF4Dh) → FF45h. On a DeviceError between
   *  8Dh and FF45h the open receipt is cancelled (88h) before the error is thrown. */
  print(receipt: ReceiptToPrint): Promise<FiscalResult>;
  /**
   * Decides what happened to a receipt whose print outcome is unknown (LinkError with
   * outcomeUnknown, or a process that died in 'printing'): pending answer on the link, then
   * FF01h + FF0Ah scan from the expected FD number; cancels a receipt left open.
   */
  reconcile(req: ReconcileRequest): Promise<ReconcileOutcome>;
  /** Z report (41h). Returns the closed shift's number and FD number (FF01h after). */
  closeShift(): Promise<{ shiftNumber: number; fiscalDocumentNumber: number }>;
  /** Opens a shift (E0h) if closed; no-op when open. */
  openShift(): Promise<{ shiftNumber: number }>;
  /** X report (40h): prints the shift totals, changes nothing. */
  xReport(): Promise<void>;
}
