/**
 * The receipt printer: one worker per fiscal register that prints queued receipts in order,
 * exactly once.
 *
 *   reserve  prepare() readies the device (busy, paper, shift, orphan receipt) and reads the
 *            FN's last document number; the receipt is claimed (queued → printing) together
 *            with the expected fiscal document number, and committed, BEFORE the first byte of
 *            the receipt goes to the device;
 *   print    8Dh … FF46h … FF45h (the driver);
 *   confirm  the FD number, fiscal sign and shift are committed (printing → fiscalised).
 *
 * A receipt found in `printing` (the process died, or the answer was lost) is never printed
 * again blindly: reconcile() asks the device (pending answer, FF01h, FF0Ah scan from the
 * expected number) and the receipt becomes fiscalised, goes back to the queue (nothing was
 * made), or dead (ambiguous: an operator decides).
 *
 * While the register is unreachable a circuit breaker spaces the attempts; intake goes on
 * (receipts only wait in the database), and the backlog drains in id order when it is back.
 * The device is owned exclusively: run one printing process per register.
 */
import type { Knex } from 'knex';
import { AppError } from '../errors';
import { nowIso, toIso } from '../db/time';
import {
  DeviceError, LinkError, type FiscalRegister, type FiscalResult, type ReceiptToPrint, type RegisterState,
} from '../device/register';
import type { Logger } from '../logger';
import { Receipt } from '../models';
import type { ServiceContext } from '../services/context';
import { hasReceiptWatchers, publishReceipt, receiptCounts, type ReceiptStatus } from '../services/receipts';
import { CircuitBreaker, type BreakerView } from '../util/circuit-breaker';

export type PrinterState =
  /** Not started yet, or starting. */
  | 'starting'
  /** Talking to the register. */
  | 'ready'
  /** The register does not answer (port gone, cable, power); the breaker spaces the retries. */
  | 'offline'
  /** The register needs a person: paper, cover, continue-print. */
  | 'operator_needed'
  /** The FN cannot make documents (30-day OFD block, exhausted, hardware): alert. */
  | 'hard_fault'
  | 'stopped';

export interface PrinterOptions {
  registerId: string;
  breaker: { failureThreshold: number; openMs: number; maxOpenMs: number };
  /** Wait after the register asked for an operator (paper out) before trying again. */
  operatorRetryMs: number;
  /** Wait after an FN hard fault before trying again. */
  hardFaultRetryMs: number;
  /** Close the shift (Z report) once it has been open this long (24 h is the legal limit). */
  shiftCloseAfterMs: number;
  /** How often an idle worker looks at the queue without being woken. */
  idlePollMs: number;
  /** Longest an operator command (close shift, X report) waits for its turn. */
  commandTimeoutMs: number;
}

export interface RegisterStatusView {
  registerId: string;
  state: PrinterState;
  breaker: BreakerView;
  lastError: { code: number | null; text: string; at: string } | null;
  fnSerial: string | null;
  shiftNumber: number | null;
  shiftOpen: boolean | null;
  /** When this worker first saw the current shift open. */
  shiftOpenedAt: string | null;
  /** When the worker will close the shift by itself. */
  shiftCloseDueAt: string | null;
  lastFiscalDocumentNumber: number | null;
  warnings: RegisterState['warnings'] | null;
  queue: Record<ReceiptStatus, number>;
}

/** What the services see of the printer (ServiceContext.integrations.kkt). */
export interface KktController {
  /** New work is in the queue. */
  wake(): void;
  status(): Promise<RegisterStatusView>;
  closeShift(): Promise<{ shiftNumber: number; fiscalDocumentNumber: number }>;
  xReport(): Promise<void>;
}

/** Attempts a receipt gets when the device keeps refusing it for its state (not for its data). */
const MAX_STATE_RETRIES = 5;

interface Command<T> {
  name: string;
  run: () => Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

interface Claimed {
  receiptId: number;
  /** The claimed row, read back only when someone subscribes to receipt updates. */
  receipt: Receipt | null;
  attemptId: number;
  expected: number;
  fnSerial: string;
}

interface KktStateRow {
  fnSerial: string | null;
  shiftNumber: number | null;
  shiftOpenedAt: string | null;
  lastFiscalDocumentNumber: number | null;
}

export class ReceiptPrinter implements KktController {
  private state: PrinterState = 'starting';
  private readonly breaker: CircuitBreaker;
  private lastError: RegisterStatusView['lastError'] = null;
  private lastDevice: RegisterState | null = null;
  /** Last fiscal document number seen (prepare, confirm, Z report). */
  private lastFd: number | null = null;
  /** kkt_state as last read or written: this worker is its only writer. */
  private kkt: KktStateRow | null | undefined = undefined;
  /** A receipt claimed (committed as printing) during the previous receipt's confirm, printed next. */
  private handoff: { receipt: Receipt; claimed: Claimed } | null = null;
  /** The next queued receipt, read while the previous one was printing (same validity rule). */
  private prefetched: Promise<Receipt | undefined> | null = null;
  /**
   * True after this worker confirmed a receipt and nothing failed since: then no receipt can be
   * left `printing` (only this worker sets it), and the check for one is skipped.
   */
  private clean = false;
  private pausedUntil = 0;
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private readonly commands: Array<Command<unknown>> = [];
  private readonly db: Knex;
  private readonly log: Logger;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly register: FiscalRegister,
    private readonly opts: PrinterOptions,
  ) {
    this.db = ctx.db;
    this.log = ctx.logger.child({ component: 'receipt-printer', register: opts.registerId });
    this.breaker = new CircuitBreaker(opts.breaker);
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Finishes the step in progress (a receipt being printed is printed and confirmed), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loopDone;
    for (const c of this.commands.splice(0)) c.reject(new AppError('UNAVAILABLE', 'The receipt printer is stopping'));
    await this.register.close().catch(() => undefined);
    this.state = 'stopped';
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  closeShift(): Promise<{ shiftNumber: number; fiscalDocumentNumber: number }> {
    return this.enqueue('close shift (Z report)', () => this.doCloseShift('on request'));
  }

  private async doCloseShift(why: string): Promise<{ shiftNumber: number; fiscalDocumentNumber: number }> {
    const r = await this.register.closeShift();
    this.lastFd = r.fiscalDocumentNumber;
    await this.saveKktState({ shiftNumber: r.shiftNumber, shiftOpenedAt: null, lastFiscalDocumentNumber: r.fiscalDocumentNumber });
    this.lastDevice = await this.register.state().catch(() => (this.lastDevice ? { ...this.lastDevice, shiftOpen: false } : null));
    this.log.info({ shiftNumber: r.shiftNumber, fiscalDocumentNumber: r.fiscalDocumentNumber }, `shift closed ${why} (Z report)`);
    return r;
  }

  xReport(): Promise<void> {
    return this.enqueue('X report', () => this.register.xReport());
  }

  async status(): Promise<RegisterStatusView> {
    const k = await this.loadKktState();
    return {
      registerId: this.opts.registerId,
      state: this.state,
      breaker: this.breaker.view(),
      lastError: this.lastError,
      fnSerial: this.lastDevice?.fnSerial ?? k?.fnSerial ?? null,
      shiftNumber: this.lastDevice?.shiftNumber ?? k?.shiftNumber ?? null,
      shiftOpen: this.lastDevice ? this.lastDevice.shiftOpen : null,
      shiftOpenedAt: k?.shiftOpenedAt ?? null,
      shiftCloseDueAt: k?.shiftOpenedAt ? new Date(Date.parse(k.shiftOpenedAt) + this.opts.shiftCloseAfterMs).toISOString() : null,
      lastFiscalDocumentNumber: this.lastFd ?? k?.lastFiscalDocumentNumber ?? null,
      warnings: this.lastDevice?.warnings ?? null,
      queue: await receiptCounts(this.ctx),
    };
  }

  // ---------------------------------------------------------------------------------------
  // The loop

  private async loop(): Promise<void> {
    this.log.info('receipt printer started');
    while (!this.stopping) {
      try {
        const waitMs = await this.step();
        if (waitMs > 0) await this.sleep(waitMs);
      } catch (e) {
        // A bug or a database error: log it, keep the worker alive, do not spin.
        this.log.error({ err: e }, 'receipt printer step failed');
        await this.sleep(1000);
      }
    }
    // Claimed but not sent: back to the queue, so the next start does not need to reconcile it.
    await this.dropHandoff().catch((e) => this.log.warn({ err: e }, 'could not give back a claimed receipt'));
    this.log.info('receipt printer stopped');
  }

  /** One unit of work; returns how long to wait before the next (0 = go on at once). */
  private async step(): Promise<number> {
    const now = Date.now();
    if (!this.breaker.canTry()) {
      this.failPendingCommands('The cash register is offline');
      return this.breaker.msUntilTrial();
    }
    if (now < this.pausedUntil && this.commands.length === 0) return this.pausedUntil - now;

    // 1. Receipts whose outcome is unknown come before anything else touches the device.
    if (!this.clean) {
      const uncertain = await Receipt.query(this.db).where({ status: 'printing' }).orderBy('id').first();
      if (uncertain) {
        this.prefetched = null;
        await this.reconcile(uncertain);
        return 0;
      }
    }
    // 2. Operator commands, between receipts.
    const cmd = this.commands.shift();
    if (cmd) {
      this.prefetched = null;
      await this.dropHandoff(); // its claimed number would be taken by the command's document
      await this.runCommand(cmd);
      return 0;
    }
    if (now < this.pausedUntil) return this.pausedUntil - now;
    // 3. The shift's 24 hours.
    if (await this.shiftDue()) {
      await this.dropHandoff();
      await this.device('auto close shift', () => this.doCloseShift('before its 24 hours'));
      return 0;
    }
    // 4. The receipt claimed while the previous one was confirmed, else the oldest queued one.
    const handoff = this.handoff;
    this.handoff = null;
    if (handoff) {
      await this.printClaimed(handoff.receipt, handoff.claimed);
      return 0;
    }
    const prefetched = this.prefetched;
    this.prefetched = null;
    const next = (await prefetched) ?? (await this.oldestQueued());
    if (!next) return this.opts.idlePollMs;
    await this.print(next);
    return 0;
  }

  /** Cold start of a receipt: ready the register, claim, print. */
  private async print(r: Receipt): Promise<void> {
    if (!r.printPayload) {
      // Rows not created through receipts.create (imported by hand) have nothing to print.
      await this.markDead(r.id, 'the receipt has no print payload; cancel it and submit it again through receipts.create');
      return;
    }
    const state = await this.device('prepare', () => this.register.prepare());
    if (!state) return;
    await this.noteDeviceState(state);
    const claimed = await this.claim(r, state.lastFiscalDocumentNumber + 1, state.fnSerial);
    if (claimed) await this.printClaimed(r, claimed);
  }

  /**
   * Reserve: the receipt is claimed (queued → printing) with the fiscal document number it
   * should get, and that is committed before any byte of it goes to the register. Null when
   * it was cancelled meanwhile.
   */
  private async claim(r: Receipt, expected: number, fnSerial: string): Promise<Claimed | null> {
    const startedAt = nowIso();
    // The whole row is read back (and its JSON parsed) only for live subscribers.
    const watched = hasReceiptWatchers(this.ctx);
    return this.db.transaction(async (trx) => {
      const rows = await trx('receipts')
        .where({ id: r.id, status: 'queued' })
        .update({
          status: 'printing',
          expected_fiscal_document_number: expected,
          fn_serial: fnSerial,
          attempt_count: trx.raw('attempt_count + 1'),
          last_error: null,
          last_error_code: null,
          updated_at: startedAt,
        })
        .returning(watched ? '*' : 'id');
      if (rows.length === 0) return null;
      const [row] = await trx('receipt_attempts')
        .insert({ receipt_id: r.id, started_at: startedAt, outcome: 'printing', expected_fiscal_document_number: expected })
        .returning('id');
      const attemptId = typeof row === 'object' ? (row as { id: number }).id : (row as number);
      return { receiptId: r.id, receipt: watched ? Receipt.fromDatabaseJson(rows[0] as object) : null, attemptId, expected, fnSerial };
    });
  }

  private async dropHandoff(): Promise<void> {
    const h = this.handoff;
    this.handoff = null;
    if (h) await this.unclaim(h.claimed);
  }

  /** Gives back a claim nothing was sent for (the register was not ready after all). */
  private async unclaim(c: Claimed): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('receipts').where({ id: c.receiptId, status: 'printing' })
        .update({ status: 'queued', attempt_count: trx.raw('attempt_count - 1'), updated_at: nowIso() });
      await trx('receipt_attempts').where({ id: c.attemptId }).delete();
    });
  }

  /**
   * Print → confirm, and the next receipt's reserve overlapped with this one's confirm:
   *
   *   register:  … FF45h FF40h | 10h FF01h FF40h (prepare next) | 8Dh … (print next)
   *   database:               | confirm this; claim next      |
   *
   * The next receipt is claimed with this receipt's number + 1, which is what the register
   * will give it unless prepare() made a document of its own (a shift opened); then the claim
   * is corrected before printing. The claim is still committed before the next 8Dh.
   */
  private async printClaimed(r: Receipt, claimed: Claimed): Promise<void> {
    if (claimed.receipt) publishReceipt(this.ctx, claimed.receipt);
    let result: FiscalResult;
    try {
      const printing = this.register.print(r.printPayload as ReceiptToPrint);
      // The next receipt is read while this one prints (its first bytes are already on their
      // way); a cancel in between is caught by the claim's conditional update.
      this.prefetched = this.oldestQueued().catch(() => undefined);
      result = await printing;
    } catch (e) {
      this.prefetched = null;
      this.clean = false;
      await this.printFailed(r, claimed.attemptId, e);
      return;
    }
    this.breaker.onSuccess();
    this.state = 'ready';
    const chain = !this.stopping && this.commands.length === 0 && !(await this.shiftDue());
    // prepare() cannot touch the document just made: it is closed in the FN.
    const preparing = chain ? this.device('prepare', () => this.register.prepare()) : null;
    await this.confirm(r.id, claimed.attemptId, result, 'ok');
    this.clean = true;
    if (!preparing) return;
    const prefetched = this.prefetched;
    this.prefetched = null;
    const next = await prefetched;
    const nextClaim = next?.printPayload ? await this.claim(next, result.fiscalDocumentNumber + 1, claimed.fnSerial) : null;
    const state = await preparing;
    if (!nextClaim || !next) return;
    if (!state) {
      await this.unclaim(nextClaim);
      return;
    }
    await this.noteDeviceState(state);
    if (state.lastFiscalDocumentNumber + 1 !== nextClaim.expected || state.fnSerial !== nextClaim.fnSerial) {
      const expected = state.lastFiscalDocumentNumber + 1;
      await this.db.transaction(async (trx) => {
        await trx('receipts').where({ id: next.id }).update({ expected_fiscal_document_number: expected, fn_serial: state.fnSerial });
        await trx('receipt_attempts').where({ id: nextClaim.attemptId }).update({ expected_fiscal_document_number: expected });
      });
      nextClaim.expected = expected;
      nextClaim.fnSerial = state.fnSerial;
    }
    this.handoff = { receipt: next, claimed: nextClaim };
  }

  private async oldestQueued(): Promise<Receipt | undefined> {
    return await Receipt.query(this.db).where({ status: 'queued' }).orderBy('id').first();
  }

  /** Confirm: the receipt is in the FN; record what the device said, exactly once. */
  private async confirm(
    receiptId: number,
    attemptId: number | null,
    result: FiscalResult,
    outcome: 'ok' | 'reconciled',
    /** No attempt is open (it ended with a transport error): record the reconciliation as one. */
    newAttemptExpectedFd: number | null = null,
  ): Promise<void> {
    const at = nowIso();
    const watched = hasReceiptWatchers(this.ctx);
    const rows = await this.db.transaction(async (trx) => {
      const updated = await trx('receipts')
        .where({ id: receiptId, status: 'printing' })
        .update({
          status: 'fiscalised',
          fiscal_document_number: result.fiscalDocumentNumber,
          fiscal_sign: result.fiscalSign,
          shift_number: result.shiftNumber,
          receipt_number: result.receiptNumber,
          fiscalised_at: result.fiscalDateTime ?? at,
          last_error: null,
          last_error_code: null,
          updated_at: at,
        })
        .returning(watched ? '*' : 'id');
      if (attemptId !== null) await trx('receipt_attempts').where({ id: attemptId }).update({ outcome, finished_at: at });
      else if (updated.length && newAttemptExpectedFd !== null) {
        await trx('receipt_attempts').insert({ receipt_id: receiptId, started_at: at, finished_at: at, outcome, expected_fiscal_document_number: newAttemptExpectedFd });
      }
      return updated;
    });
    this.lastFd = Math.max(this.lastFd ?? 0, result.fiscalDocumentNumber);
    this.log.debug({ receiptId, fiscalDocumentNumber: result.fiscalDocumentNumber, outcome }, 'receipt fiscalised');
    if (watched && rows[0]) publishReceipt(this.ctx, Receipt.fromDatabaseJson(rows[0] as object));
  }

  private async printFailed(r: Receipt, attemptId: number, e: unknown): Promise<void> {
    const at = nowIso();
    if (e instanceof DeviceError) {
      // The device refused a command and the driver cancelled the open receipt: nothing is in
      // the FN. Business errors will not go away by retrying: dead-letter for an operator.
      // A state the driver could not fix after several tries also needs a person.
      const dead = e.kind === 'business' || (e.kind === 'state' && r.attemptCount + 1 >= MAX_STATE_RETRIES);
      await this.db.transaction(async (trx) => {
        await trx('receipts').where({ id: r.id, status: 'printing' }).update({
          status: dead ? 'dead' : 'queued',
          last_error: deviceErrorText(e, dead),
          last_error_code: e.code,
          updated_at: at,
        });
        await trx('receipt_attempts').where({ id: attemptId }).update({
          outcome: 'device_error', finished_at: at, device_error_code: e.code, device_error_text: e.text,
        });
      });
      this.breaker.onSuccess(); // the register answered
      this.noteDeviceError(e);
      this.log.warn({ receiptId: r.id, code: e.code, kind: e.kind, text: e.text }, dead ? 'receipt dead-lettered' : 'receipt kept in the queue');
    } else {
      // Link lost mid-receipt (or an unexpected failure): the outcome is unknown. The receipt
      // stays `printing` and is reconciled before anything else is printed.
      const text = e instanceof Error ? e.message : String(e);
      await this.db.transaction(async (trx) => {
        await trx('receipts').where({ id: r.id }).update({ last_error: `transport error: ${text} (will reconcile)`, last_error_code: null, updated_at: at });
        await trx('receipt_attempts').where({ id: attemptId }).update({ outcome: 'transport_error', finished_at: at, device_error_text: text });
      });
      this.linkFailed(e);
    }
    await this.publish(r.id);
  }

  private async reconcile(r: Receipt): Promise<void> {
    if (r.expectedFiscalDocumentNumber == null || !r.fnSerial) {
      // Claimed without a number (cannot happen through print(); a hand-edited row): decide by hand.
      await this.markDead(r.id, 'printing without an expected fiscal document number; check the register journal');
      return;
    }
    const payload = r.printPayload as ReceiptToPrint;
    const outcome = await this.device('reconcile', () =>
      this.register.reconcile({
        expectedFiscalDocumentNumber: Number(r.expectedFiscalDocumentNumber),
        fnSerial: r.fnSerial!,
        operation: payload.operation,
        totalMinor: payload.totalMinor,
      }),
    );
    if (!outcome) return;
    const open = await this.db('receipt_attempts').where({ receipt_id: r.id }).whereNull('finished_at').orderBy('id', 'desc').first('id');
    const openAttempt = (open as { id: number } | undefined)?.id ?? null;
    const at = nowIso();
    if (outcome.kind === 'fiscalised') {
      await this.confirm(r.id, openAttempt, outcome.result, 'reconciled', openAttempt ? null : Number(r.expectedFiscalDocumentNumber));
      return;
    }
    if (outcome.kind === 'not_printed') {
      await this.db.transaction(async (trx) => {
        await trx('receipts').where({ id: r.id, status: 'printing' }).update({ status: 'queued', updated_at: at });
        if (openAttempt) await trx('receipt_attempts').where({ id: openAttempt }).update({ outcome: 'not_printed', finished_at: at });
      });
      this.log.info({ receiptId: r.id }, 'reconciled: the receipt was not made; printing it again');
      await this.publish(r.id);
      return;
    }
    await this.markDead(r.id, `reconciliation ambiguous: ${outcome.reason}`, openAttempt);
  }

  private async markDead(receiptId: number, reason: string, openAttempt: number | null = null): Promise<void> {
    const at = nowIso();
    await this.db.transaction(async (trx) => {
      await trx('receipts').where({ id: receiptId }).update({ status: 'dead', last_error: reason, last_error_code: null, updated_at: at });
      if (openAttempt) await trx('receipt_attempts').where({ id: openAttempt }).update({ outcome: 'ambiguous', finished_at: at, device_error_text: reason });
    });
    this.log.error({ receiptId, reason }, 'receipt needs manual review (dead letter)');
    await this.publish(receiptId);
  }

  // ---------------------------------------------------------------------------------------
  // Device calls and their failures

  /**
   * Runs a device call outside a receipt's print step; classifies its failure. Returns
   * undefined when it failed (the state and pauses are set). With a receipt, a business error
   * in prepare() dead-letters nothing (prepare never carries receipt data): it pauses.
   */
  private async device<T>(what: string, fn: () => Promise<T>, _r?: Receipt): Promise<T | undefined> {
    try {
      const v = await fn();
      this.breaker.onSuccess();
      if (this.state !== 'ready') this.log.info({ previous: this.state }, 'register ready');
      this.state = 'ready';
      return v;
    } catch (e) {
      if (e instanceof DeviceError) {
        this.breaker.onSuccess();
        this.noteDeviceError(e);
        this.log.warn({ step: what, code: e.code, kind: e.kind, text: e.text }, 'register refused');
      } else {
        this.linkFailed(e, what);
      }
      return undefined;
    }
  }

  private noteDeviceError(e: DeviceError): void {
    this.lastError = { code: e.code, text: e.text, at: nowIso() };
    if (e.kind === 'operator') {
      this.state = 'operator_needed';
      this.pausedUntil = Date.now() + this.opts.operatorRetryMs;
    } else if (e.kind === 'hard') {
      this.state = 'hard_fault';
      this.pausedUntil = Date.now() + this.opts.hardFaultRetryMs;
      this.log.error({ code: e.code, text: e.text }, 'FISCAL REGISTER HARD FAULT: receipts are kept in the queue until it is fixed');
    } else if (e.kind === 'state') {
      this.pausedUntil = Date.now() + Math.min(1000, this.opts.operatorRetryMs);
    }
  }

  private linkFailed(e: unknown, what = 'print'): void {
    this.clean = false;
    this.prefetched = null;
    const text = e instanceof Error ? e.message : String(e);
    this.breaker.onFailure();
    this.lastError = { code: null, text, at: nowIso() };
    if (this.state !== 'offline') this.log.warn({ step: what, err: text, breaker: this.breaker.view() }, 'register unreachable');
    this.state = e instanceof LinkError || this.breaker.state !== 'closed' ? 'offline' : this.state;
  }

  private enqueue<T>(name: string, run: () => Promise<T>): Promise<T> {
    if (this.stopping) return Promise.reject(new AppError('UNAVAILABLE', 'The receipt printer is stopping'));
    if (!this.breaker.canTry()) {
      return Promise.reject(new AppError('UNAVAILABLE', `The cash register is offline (${this.lastError?.text ?? 'no answer'}); try again after ${this.breaker.view().retryAt}`));
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.commands.indexOf(cmd as Command<unknown>);
        if (i >= 0) this.commands.splice(i, 1);
        reject(new AppError('UNAVAILABLE', `The cash register did not get to "${name}" within ${this.opts.commandTimeoutMs} ms`));
      }, this.opts.commandTimeoutMs);
      const cmd: Command<T> = {
        name,
        run,
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      };
      this.commands.push(cmd as Command<unknown>);
      this.wake();
    });
  }

  private async runCommand(cmd: Command<unknown>): Promise<void> {
    try {
      const v = await cmd.run();
      this.breaker.onSuccess();
      this.state = 'ready';
      cmd.resolve(v);
    } catch (e) {
      if (e instanceof DeviceError) {
        this.noteDeviceError(e);
        cmd.reject(new AppError('CONFLICT', `The cash register refused "${cmd.name}": ${e.message}`, { deviceErrorCode: e.code }));
      } else {
        this.linkFailed(e, cmd.name);
        cmd.reject(new AppError('UNAVAILABLE', `The cash register did not answer "${cmd.name}": ${e instanceof Error ? e.message : String(e)}`));
      }
    }
  }

  private failPendingCommands(why: string): void {
    for (const c of this.commands.splice(0)) c.reject(new AppError('UNAVAILABLE', `${why}; "${c.name}" was not run`));
  }

  // ---------------------------------------------------------------------------------------
  // Shift bookkeeping (kkt_state)

  private async shiftDue(): Promise<boolean> {
    const k = await this.loadKktState();
    return !!k?.shiftOpenedAt && Date.parse(k.shiftOpenedAt) + this.opts.shiftCloseAfterMs <= Date.now();
  }

  /** Remembers what prepare() saw; a shift number we have not seen means a new shift began now. */
  private async noteDeviceState(s: RegisterState): Promise<void> {
    this.lastDevice = s;
    this.lastFd = s.lastFiscalDocumentNumber;
    const k = await this.loadKktState();
    const patch: Partial<KktStateRow> = {};
    if (!s.shiftOpen) {
      if (k?.shiftOpenedAt) patch.shiftOpenedAt = null;
    } else if (!k?.shiftOpenedAt || k.shiftNumber !== s.shiftNumber || k.fnSerial !== s.fnSerial) {
      patch.shiftOpenedAt = nowIso();
    }
    if (k?.fnSerial !== s.fnSerial) patch.fnSerial = s.fnSerial;
    if (k?.shiftNumber !== s.shiftNumber) patch.shiftNumber = s.shiftNumber;
    // Written only when the FN or the shift changed: not once per receipt.
    if (Object.keys(patch).length) await this.saveKktState({ ...patch, lastFiscalDocumentNumber: s.lastFiscalDocumentNumber });
  }

  private async loadKktState(): Promise<KktStateRow | null> {
    if (this.kkt !== undefined) return this.kkt;
    // The knex instance maps columns to camelCase keys (knexSnakeCaseMappers).
    const r = (await this.db('kkt_state').where({ register_id: this.opts.registerId }).first()) as Record<string, unknown> | undefined;
    this.kkt = r
      ? {
          fnSerial: (r['fnSerial'] as string | null) ?? null,
          shiftNumber: r['shiftNumber'] == null ? null : Number(r['shiftNumber']),
          shiftOpenedAt: toIso(r['shiftOpenedAt']),
          lastFiscalDocumentNumber: r['lastFiscalDocumentNumber'] == null ? null : Number(r['lastFiscalDocumentNumber']),
        }
      : null;
    return this.kkt;
  }

  private async saveKktState(patch: Partial<KktStateRow>): Promise<void> {
    const row: Record<string, unknown> = { updated_at: nowIso() };
    if (patch.fnSerial !== undefined) row['fn_serial'] = patch.fnSerial;
    if (patch.shiftNumber !== undefined) row['shift_number'] = patch.shiftNumber;
    if (patch.shiftOpenedAt !== undefined) row['shift_opened_at'] = patch.shiftOpenedAt;
    if (patch.lastFiscalDocumentNumber !== undefined) row['last_fiscal_document_number'] = patch.lastFiscalDocumentNumber;
    await this.db('kkt_state').insert({ register_id: this.opts.registerId, ...row }).onConflict('register_id').merge(row);
    const base = (await this.loadKktState()) ?? { fnSerial: null, shiftNumber: null, shiftOpenedAt: null, lastFiscalDocumentNumber: null };
    this.kkt = { ...base, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
  }

  // ---------------------------------------------------------------------------------------

  private async publish(receiptId: number): Promise<void> {
    if (!hasReceiptWatchers(this.ctx)) return;
    const r = await Receipt.query(this.db).findById(receiptId);
    if (r) publishReceipt(this.ctx, r);
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wakeUp = finish;
    });
  }
}

function deviceErrorText(e: DeviceError, dead: boolean): string {
  const code = `${e.code.toString(16).toUpperCase().padStart(2, '0')}h`;
  return dead
    ? `device error ${code}: ${e.text} — moved to dead letters, needs an operator (receipts.retry or receipts.cancel)`
    : `device error ${code}: ${e.text} (kept in the queue; will retry)`;
}
