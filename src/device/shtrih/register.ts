/**
 * FiscalRegister over the Shtrih-M protocol (src/device/register.ts is the contract).
 *
 * Every public call is serialised (one device dialogue at a time). Around each command the
 * driver handles what the device asks of it without involving the service: 50h busy (wait,
 * poll 10h, resend — not an attempt), 58h waiting for continue-print (B0h, resend). State
 * errors on opening a receipt (4Eh shift over 24 h, 4Ah receipt open, 72h/73h) are fixed once
 * and the command retried. Everything else becomes a DeviceError with the kind from errors.ts.
 *
 * Item amounts: FF46h carries the exact item amount (amountMinor) and lets the device compute
 * the tax (FF×5), so the FN total is exactly the total the service recorded.
 */
import {
  DeviceError,
  LinkError,
  type FiscalRegister,
  type FiscalResult,
  type ReceiptToPrint,
  type ReconcileOutcome,
  type ReconcileRequest,
  type RegisterState,
  type VatCodeTable,
} from '../register';
import { EncodingError, hexCode, tlvByte, tlvString } from './codec';
import * as C from './commands';
import { CMD, type CommandRequest } from './commands';
import { deviceError, errorInfo } from './errors';
import { ShtrihLink, type LinkRetries, type LinkTimeouts, type LoggerLike, type RawAnswer } from './link';
import {
  OPERATION_TYPE,
  RECEIPT_TYPE,
  ReceiptValidationError,
  TAX_SYSTEM_BIT,
  paymentSlots,
  validateReceiptForDevice,
} from './receipt';
import type { TransportSpec } from './transport';
import { resolveVatTable, type ShtrihModel } from './vat';

export interface ShtrihRegisterOptions {
  transport: TransportSpec;
  /** Operator password; all FN commands need the system administrator's (30, the default). Never logged. */
  password?: number;
  /** Model whose VAT byte table is used unless vatCodes is given. */
  model?: ShtrihModel;
  vatCodes?: VatCodeTable;
  /** '1.2' sends tag 2108 (unit) via FF4Dh after each item. Default '1.05'. */
  ffd?: '1.05' | '1.2';
  /** Link timeouts (ms) and their `scale`; busy polling uses the same scale. */
  timeouts?: Partial<LinkTimeouts> & {
    /** Pause between 10h polls while the device is busy (50h, sub-mode 4/5). Default 300. */
    busyPollMs?: number;
    /** Give up waiting for a busy device after this long (DeviceError 50h, kind 'state'). Default 120 000. */
    busyMaxMs?: number;
  };
  retries?: Partial<LinkRetries>;
  logger?: LoggerLike;
  /** Run validateReceiptForDevice in print() before sending (default true). */
  validateBeforeSend?: boolean;
  /** Text printed by FF45h (≤ 64 bytes CP1251). */
  closeText?: string;
  /** How many fiscal documents reconcile() reads with FF0Ah at most (default 50). */
  maxReconcileScan?: number;
}

export interface ShtrihRegister extends FiscalRegister {
  readonly link: ShtrihLink;
  readonly vatCodes: VatCodeTable;
  /** Answers found pending on the link that belonged to earlier commands (newest last). */
  staleAnswers(): RawAnswer[];
  ofdStatus(): Promise<C.OfdStatus>;
  deviceType(): Promise<C.DeviceType>;
  findDocument(fiscalDocumentNumber: number): Promise<C.FoundDocument>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_STALE = 16;

export function createShtrihRegister(options: ShtrihRegisterOptions): ShtrihRegister {
  return new ShtrihFiscalRegister(options);
}

class ShtrihFiscalRegister implements ShtrihRegister {
  readonly link: ShtrihLink;
  readonly vatCodes: VatCodeTable;
  private readonly pwd: number;
  private readonly log: LoggerLike | undefined;
  private readonly stale: RawAnswer[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ShtrihRegisterOptions) {
    this.pwd = options.password ?? 30;
    this.vatCodes = options.vatCodes ?? resolveVatTable(options.model ?? 'shtrih');
    this.log = options.logger;
    this.link = new ShtrihLink({
      transport: options.transport,
      timeouts: options.timeouts,
      retries: options.retries,
      logger: options.logger,
      onStaleAnswer: (a) => {
        this.stale.push(a);
        if (this.stale.length > MAX_STALE) this.stale.shift();
      },
    });
  }

  private scaled(ms: number): number {
    return Math.max(1, Math.round(ms * this.link.timeouts.scale));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------ command plumbing

  /** Sends one command; handles busy (50h) and continue-print (58h); throws DeviceError otherwise. */
  private async command(req: CommandRequest): Promise<Buffer> {
    const deadline = Date.now() + this.scaled(this.options.timeouts?.busyMaxMs ?? 120_000);
    let continues = 0;
    for (;;) {
      const ans = await this.link.execute(req);
      if (ans.error === 0) return ans.data;
      const handling = errorInfo(ans.error).handling;
      if (handling === 'busy' && Date.now() < deadline) {
        this.log?.debug({ cmd: hexCode(req.code) }, 'kkt busy (50h): waiting');
        await this.waitWhileBusy(deadline, req.code);
        continue;
      }
      if (handling === 'continue-print' && req.code !== CMD.CONTINUE_PRINT && continues < 3) {
        continues++;
        this.log?.info({ cmd: hexCode(req.code) }, 'kkt waiting for continue-print (58h): sending B0h');
        await this.command(C.continuePrint(this.pwd));
        continue;
      }
      throw deviceError(ans.error, req.code);
    }
  }

  private async waitWhileBusy(deadline: number, code: number): Promise<void> {
    for (;;) {
      await sleep(this.scaled(this.options.timeouts?.busyPollMs ?? 300));
      const ans = await this.link.execute(C.shortStatus(this.pwd));
      if (ans.error === 0) {
        const st = C.decodeShortStatus(ans.data);
        if (st.subMode !== 4 && st.subMode !== 5) return;
      } else if (ans.error !== 0x50) return;
      if (Date.now() > deadline) throw new DeviceError(0x50, code, 'state', 'device stayed busy longer than busyMaxMs');
    }
  }

  private async shortStatus(): Promise<C.ShortStatus> {
    return C.decodeShortStatus(await this.command(C.shortStatus(this.pwd)));
  }
  private async fnStatus(): Promise<C.FnStatus> {
    return C.decodeFnStatus(await this.command(C.fnStatus(this.pwd)));
  }
  private async shiftParams(): Promise<C.ShiftParams> {
    return C.decodeShiftParams(await this.command(C.shiftParams(this.pwd)));
  }

  private buildState(st: C.ShortStatus, fn: C.FnStatus, sp: C.ShiftParams): RegisterState {
    return {
      fnSerial: fn.serial,
      lastFiscalDocumentNumber: fn.lastFiscalDocumentNumber,
      mode: st.mode,
      subMode: st.subMode,
      shiftOpen: sp.shiftOpen || st.mode === 2 || st.mode === 3,
      shiftNumber: sp.shiftNumber,
      shiftExpired: st.mode === 3,
      documentOpen: st.mode === 8 || fn.currentDocument !== 0,
      warnings: {
        fnExpiresSoon: (fn.warnings & 0x03) !== 0,
        fnArchiveNearlyFull: (fn.warnings & 0x04) !== 0,
        ofdTimeout: (fn.warnings & 0x08) !== 0,
      },
      paperPresent: (st.flags & C.FLAG_RECEIPT_ROLL) !== 0 && st.subMode !== 1 && st.subMode !== 2,
    };
  }

  private async readState(): Promise<RegisterState> {
    const st = await this.shortStatus();
    const fn = await this.fnStatus();
    const sp = await this.shiftParams();
    return this.buildState(st, fn, sp);
  }

  /**
   * Brings the device to "shift open, nothing open, paper ready". Throws DeviceError 'operator'
   * for paper-out, 'state' when the device stays in a mode we cannot fix.
   */
  private async fixState(): Promise<{ st: C.ShortStatus; fn: C.FnStatus }> {
    const busyDeadline = Date.now() + this.scaled(this.options.timeouts?.busyMaxMs ?? 120_000);
    for (let step = 0; step < 8; ) {
      const st = await this.shortStatus();
      if (st.subMode === 4 || st.subMode === 5) {
        if (Date.now() > busyDeadline) throw new DeviceError(0x50, CMD.SHORT_STATUS, 'state', `device busy (sub-mode ${st.subMode}) longer than busyMaxMs`);
        await sleep(this.scaled(this.options.timeouts?.busyPollMs ?? 300));
        continue; // not a step
      }
      step++;
      if (st.subMode === 1 || st.subMode === 2) {
        throw new DeviceError(0x6b, CMD.SHORT_STATUS, 'operator', `no receipt paper (sub-mode ${st.subMode}${st.subMode === 2 ? ', active paper-out' : ''}): load paper`);
      }
      if (st.subMode === 3) {
        this.log?.info({}, 'kkt sub-mode 3: sending continue-print (B0h)');
        await this.command(C.continuePrint(this.pwd));
        continue;
      }
      const fn = await this.fnStatus();
      if (st.mode === 8 || fn.currentDocument === C.FN_DOC_RECEIPT) {
        this.log?.warn({ mode: st.modeByte }, 'kkt orphan open receipt: cancelling (88h)');
        await this.command(C.cancelReceipt(this.pwd));
        continue;
      }
      if (fn.currentDocument !== 0) {
        throw new DeviceError(0x02, CMD.FN_STATUS, 'state', `FN has document type ${hexCode(fn.currentDocument)} open; needs service`);
      }
      if (st.mode === 3) {
        this.log?.warn({}, 'kkt shift over 24 h: Z report (41h) and open shift (E0h)');
        await this.command(C.zReport(this.pwd));
        await this.command(C.openShift(this.pwd));
        continue;
      }
      if (st.mode === 4) {
        this.log?.info({}, 'kkt shift closed: opening (E0h)');
        await this.command(C.openShift(this.pwd));
        continue;
      }
      if (st.mode === 2) return { st, fn };
      throw new DeviceError(0x73, CMD.SHORT_STATUS, 'state', `device in mode ${st.mode}.${st.modeByte >> 4}, cannot prepare`);
    }
    throw new DeviceError(0x73, CMD.SHORT_STATUS, 'state', 'device state did not settle after 8 fixes');
  }

  // ------------------------------------------------------------ FiscalRegister

  open(): Promise<void> {
    return this.exclusive(() => this.link.open());
  }

  /** Not queued: closing the port abandons a command in flight (it fails with LinkError). */
  close(): Promise<void> {
    return this.link.close();
  }

  state(): Promise<RegisterState> {
    return this.exclusive(() => this.readState());
  }

  prepare(): Promise<RegisterState> {
    return this.exclusive(async () => {
      // The first command's ENQ collects a pending answer for reconcile() (never lost), and the
      // status read while fixing the state is the state: 10h + FF01h + FF40h when all is well.
      const { st, fn } = await this.fixState();
      return this.buildState(st, fn, await this.shiftParams());
    });
  }

  print(receipt: ReceiptToPrint): Promise<FiscalResult> {
    return this.exclusive(() => this.doPrint(receipt));
  }

  private async doPrint(receipt: ReceiptToPrint): Promise<FiscalResult> {
    if (this.options.validateBeforeSend !== false) {
      const problems = validateReceiptForDevice(receipt, this.vatCodes);
      if (problems.length) throw new ReceiptValidationError(problems);
    }
    const pwd = this.pwd;
    let requests: { tlvs: CommandRequest[]; items: CommandRequest[][]; close: CommandRequest };
    try {
      requests = this.buildReceiptCommands(receipt);
    } catch (e) {
      if (e instanceof EncodingError) throw new ReceiptValidationError([{ field: e.field, message: e.message }]);
      throw e;
    }

    let opened = false;
    let closeSent = false;
    try {
      await this.openReceipt(RECEIPT_TYPE[receipt.operation]);
      opened = true;
      for (const r of requests.tlvs) await this.command(r);
      for (const item of requests.items) for (const r of item) await this.command(r);
      closeSent = true;
      const close = C.decodeCloseReceipt(await this.command(requests.close));
      return await this.completeResult(close);
    } catch (err) {
      if (err instanceof DeviceError && opened) {
        // The receipt is still open (FF45h refused too): cancel it before reporting.
        try {
          await this.command(C.cancelReceipt(pwd));
        } catch (e) {
          this.log?.warn({ err: (e as Error).message }, 'kkt cancel (88h) after a refused command failed');
        }
        throw err;
      }
      if (err instanceof LinkError && !closeSent && err.outcomeUnknown) {
        // Without FF45h no fiscal document can exist; prepare() cancels what is left open.
        throw new LinkError(`${err.message} (before FF45h: the receipt was not fiscalised)`, false);
      }
      throw err;
    }
  }

  private buildReceiptCommands(receipt: ReceiptToPrint) {
    const pwd = this.pwd;
    const tlvs: CommandRequest[] = [];
    if (receipt.customerContact) tlvs.push(C.sendTlv(pwd, tlvString(1008, receipt.customerContact)));
    if (receipt.cashierName) tlvs.push(C.sendTlv(pwd, tlvString(1021, receipt.cashierName)));
    const opType = OPERATION_TYPE[receipt.operation];
    const items = receipt.items.map((item, i) => {
      const vatCode = this.vatCodes[item.vat];
      if (vatCode === undefined) throw new EncodingError(`items.${i}.vat`, `VAT rate ${item.vat} not in the model's table`);
      const cmds = [
        C.operationV2(pwd, {
          opType,
          quantityMicro: item.quantityMicro,
          priceMinor: item.priceMinor,
          amountMinor: item.amountMinor,
          vatCode,
          department: item.department ?? 0,
          paymentMethod: item.paymentMethod,
          paymentSubject: item.paymentSubject,
          name: item.name,
        }),
      ];
      if (this.options.ffd === '1.2') cmds.push(C.sendItemTlv(pwd, tlvByte(2108, item.unit ?? 0)));
      return cmds;
    });
    const close = C.closeReceiptV2(pwd, {
      payments: paymentSlots(receipt.payments),
      taxSystem: TAX_SYSTEM_BIT[receipt.taxSystem],
      text: this.options.closeText ?? '',
    });
    return { tlvs, items, close };
  }

  /** 8Dh; on a fixable state error (shift over 24 h, receipt open, mode) fix and retry once. */
  private async openReceipt(type: number): Promise<void> {
    try {
      await this.command(C.openReceipt(this.pwd, type));
    } catch (err) {
      if (!(err instanceof DeviceError) || !errorInfo(err.code).fixable) throw err;
      this.log?.warn({ code: hexCode(err.code) }, 'kkt refused to open a receipt; fixing the state and retrying once');
      await this.fixState();
      await this.command(C.openReceipt(this.pwd, type));
    }
  }

  private async completeResult(close: C.CloseReceiptAnswer): Promise<FiscalResult> {
    let shiftNumber: number | null = null;
    let receiptNumber: number | null = null;
    let dateTime = close.dateTime;
    // Best effort: the receipt is fiscalised whatever happens below.
    try {
      const sp = await this.shiftParams();
      shiftNumber = sp.shiftNumber;
      receiptNumber = sp.receiptNumber;
      if (!dateTime) dateTime = C.decodeFindDocument(await this.command(C.findDocument(this.pwd, close.fiscalDocumentNumber))).dateTime;
    } catch (e) {
      this.log?.warn({ err: (e as Error).message }, 'kkt could not read shift parameters after closing a receipt');
    }
    const result: FiscalResult = {
      fiscalDocumentNumber: close.fiscalDocumentNumber,
      fiscalSign: String(close.fiscalSign),
      fiscalDateTime: dateTime,
      shiftNumber,
      receiptNumber,
      changeMinor: close.changeMinor,
    };
    this.log?.info({ fd: result.fiscalDocumentNumber, shift: shiftNumber, receipt: receiptNumber }, 'kkt receipt fiscalised');
    return result;
  }

  reconcile(req: ReconcileRequest): Promise<ReconcileOutcome> {
    return this.exclusive(() => this.doReconcile(req));
  }

  private async doReconcile(req: ReconcileRequest): Promise<ReconcileOutcome> {
    const expected = req.expectedFiscalDocumentNumber;
    const opType = OPERATION_TYPE[req.operation];
    await this.link.probe();
    let fn = await this.fnStatus();
    if (fn.serial !== req.fnSerial.trim()) {
      return { kind: 'ambiguous', reason: `FN serial ${fn.serial} differs from ${req.fnSerial} (FN replaced?)` };
    }
    const st = await this.shortStatus();
    if (st.mode === 8 || fn.currentDocument === C.FN_DOC_RECEIPT) {
      this.log?.warn({}, 'kkt reconcile: receipt left open, cancelling (88h)');
      await this.command(C.cancelReceipt(this.pwd));
      fn = await this.fnStatus();
    }
    const last = fn.lastFiscalDocumentNumber;
    const matches = (d: C.FoundDocument) => d.documentType === C.FN_DOCUMENT_TYPE.RECEIPT && d.opType === opType && d.totalMinor === req.totalMinor;

    // 1. A close answer that never reached its caller wins.
    for (let i = this.stale.length - 1; i >= 0; i--) {
      const a = this.stale[i]!;
      if (a.code !== CMD.FN_CLOSE_RECEIPT || a.error !== 0) continue;
      let close: C.CloseReceiptAnswer;
      try {
        close = C.decodeCloseReceipt(a.data);
      } catch {
        continue;
      }
      if (close.fiscalDocumentNumber < expected || close.fiscalDocumentNumber > last) continue;
      const doc = await this.tryFind(close.fiscalDocumentNumber);
      if (doc && !matches(doc)) continue;
      this.stale.splice(i, 1);
      return { kind: 'fiscalised', result: this.resultFrom(close.fiscalDocumentNumber, close.fiscalSign, close.dateTime ?? doc?.dateTime ?? null, close.changeMinor) };
    }

    // 2. The FN counters.
    if (last === expected - 1) return { kind: 'not_printed' };
    if (last < expected - 1) {
      return { kind: 'ambiguous', reason: `FN last FD ${last} is below the expected ${expected} − 1 (FN replaced or counter mismatch)` };
    }
    const maxScan = this.options.maxReconcileScan ?? 50;
    if (last - expected + 1 > maxScan) {
      return { kind: 'ambiguous', reason: `${last - expected + 1} documents since FD ${expected}, more than the ${maxScan} scanned` };
    }
    const found: C.FoundDocument[] = [];
    let otherReceipts = 0;
    for (let fd = expected; fd <= last; fd++) {
      const doc = await this.tryFind(fd);
      if (!doc) continue;
      if (matches(doc)) found.push(doc);
      else if (doc.documentType === C.FN_DOCUMENT_TYPE.RECEIPT || doc.documentType === C.FN_DOCUMENT_TYPE.CORRECTION_RECEIPT) otherReceipts++;
    }
    if (found.length === 1) {
      const d = found[0]!;
      return { kind: 'fiscalised', result: this.resultFrom(d.fiscalDocumentNumber, d.fiscalSign, d.dateTime, null) };
    }
    if (found.length > 1) {
      return { kind: 'ambiguous', reason: `${found.length} receipts with the same type and total in FD ${expected}…${last}: ${found.map((d) => d.fiscalDocumentNumber).join(', ')}` };
    }
    if (otherReceipts === 0) return { kind: 'not_printed' }; // only shift documents since
    return { kind: 'ambiguous', reason: `FD advanced to ${last} by ${otherReceipts} receipt(s) that do not match (foreign documents?)` };
  }

  private resultFrom(fd: number, fp: number, dateTime: string | null, change: number | null): FiscalResult {
    return { fiscalDocumentNumber: fd, fiscalSign: String(fp), fiscalDateTime: dateTime, shiftNumber: null, receiptNumber: null, changeMinor: change ?? 0 };
  }

  private async tryFind(fd: number): Promise<C.FoundDocument | null> {
    try {
      return C.decodeFindDocument(await this.command(C.findDocument(this.pwd, fd)));
    } catch (e) {
      if (e instanceof DeviceError) return null;
      throw e;
    }
  }

  closeShift(): Promise<{ shiftNumber: number; fiscalDocumentNumber: number }> {
    return this.exclusive(async () => {
      try {
        await this.command(C.zReport(this.pwd));
      } catch (err) {
        if (!(err instanceof DeviceError) || err.code !== 0x4a) throw err;
        await this.command(C.cancelReceipt(this.pwd));
        await this.command(C.zReport(this.pwd));
      }
      const fn = await this.fnStatus();
      const sp = await this.shiftParams();
      return { shiftNumber: sp.shiftNumber, fiscalDocumentNumber: fn.lastFiscalDocumentNumber };
    });
  }

  openShift(): Promise<{ shiftNumber: number }> {
    return this.exclusive(async () => {
      const st = await this.shortStatus();
      if (st.mode === 4) await this.command(C.openShift(this.pwd));
      return { shiftNumber: (await this.shiftParams()).shiftNumber };
    });
  }

  xReport(): Promise<void> {
    return this.exclusive(async () => {
      await this.command(C.xReport(this.pwd));
    });
  }

  // ------------------------------------------------------------ extras

  staleAnswers(): RawAnswer[] {
    return [...this.stale];
  }

  ofdStatus(): Promise<C.OfdStatus> {
    return this.exclusive(async () => C.decodeOfdStatus(await this.command(C.ofdStatus(this.pwd))));
  }

  deviceType(): Promise<C.DeviceType> {
    return this.exclusive(async () => C.decodeDeviceType(await this.command(C.deviceType())));
  }

  findDocument(fd: number): Promise<C.FoundDocument> {
    return this.exclusive(async () => C.decodeFindDocument(await this.command(C.findDocument(this.pwd, fd))));
  }
}
