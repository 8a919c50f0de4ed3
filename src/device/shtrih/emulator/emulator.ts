/**
 * A Shtrih-M cash register with a fiscal drive (FN), emulated for tests and development only
 * (never ship it as a device: reference §1.1). A state machine of modes / sub-modes (§1.4),
 * the FN counters (serial, last FD, shift, receipt number, open document, warnings, OFD
 * queue) and a journal of every fiscal document it made, behind the device side of the
 * standard lower level (§1.2 rules 1–5):
 *
 *   ENQ → NAK when idle; ACK when executing or holding an un-ACKed answer (then the answer).
 *   Frame → ACK, execute, answer; bad LRC or a byte gap mid-frame → NAK.
 *   The answer is kept until the host ACKs it; NAK or silence keep it for the next ENQ.
 *   Power-on forgets the pending answer (FN state survives).
 *
 * Fault knobs cover every device-side case of §6.3; see docs/kkt-device.md.
 */
import { ACK, ENQ, NAK, STX, decodeCp1251, decodeCp866, decodeMoney, encodeBody, encodeDateTime, encodeMoney, encodeUInt, hexCode, isMoneyAuto, lrc, parseTlvs, readCommandCode, commandBytes, encodeCp1251 } from '../codec';
import { FN_DOCUMENT_TYPE } from '../commands';
import type { MemoryConnection, MemoryDevice, MemoryPeer } from '../transport';
import { resolveVatTable, type ShtrihModel } from '../vat';
import type { VatCodeTable } from '../../register';

export interface EmulatorTiming {
  /** Added to every command's execution. */
  commandMs: number;
  /** Per FF46h item. */
  itemMs: number;
  /** Per FF45h close. */
  closeMs: number;
  zReportMs: number;
  xReportMs: number;
  openShiftMs: number;
}

export interface EmulatorOptions {
  model?: ShtrihModel;
  /** Overrides the model's VAT byte table (same shape as the driver's). */
  vatCodes?: VatCodeTable;
  /** 16 characters. */
  fnSerial?: string;
  lastFiscalDocumentNumber?: number;
  /** Number of the last shift (the open one when shiftOpen); the next E0h opens shiftNumber + 1. */
  shiftNumber?: number;
  shiftOpen?: boolean;
  /** Device clock (ms since epoch); Date.now by default. advanceClock() adds to it. */
  clock?: () => number;
  /** Gap that aborts a frame being received (NAK). */
  byteTimeoutMs?: number;
  /** FF45h answers carry DATE_TIME (the "extended answers" setting). Default true. */
  extendedAnswers?: boolean;
  /** FF46h only inside a receipt opened by 8Dh (default: FF46h in mode 2 opens one). */
  strictFf46?: boolean;
  timing?: Partial<EmulatorTiming>;
}

export interface JournalTlv {
  tag: number;
  hex: string;
  /** Decoded CP866 text for string tags (1008, 1021, 1192, 1085, 1086, …). */
  text?: string;
  /** STLV children (e.g. 1084 → 1085 + 1086). */
  children?: JournalTlv[];
}

export interface JournalItem {
  opType: number;
  name: string;
  quantityMicro: number;
  priceMinor: number;
  amountMinor: number;
  /** The explicit sum / tax field was FF×5 ("device computes"). */
  amountAuto: boolean;
  taxAuto: boolean;
  vatCode: number;
  department: number;
  paymentMethod: number;
  paymentSubject: number;
  tlvs: JournalTlv[];
}

export interface JournalEntry {
  fiscalDocumentNumber: number;
  type: 'receipt' | 'shift_open' | 'shift_close';
  /** 'foreign': made by "another program" through the foreignReceipt() knob. */
  source: 'host' | 'foreign';
  fiscalSign: number;
  /** Device date-time, ISO-8601 (minutes precision). */
  dateTime: string;
  shiftNumber: number;
  receiptNumber?: number;
  /** 8Dh receipt type (0 sale, 1 purchase, 2 return of sale, 3 return of purchase). */
  receiptType?: number;
  /** Tag 1054 (1 приход, 2 возврат прихода, 3 расход, 4 возврат расхода). */
  opType?: number;
  totalMinor?: number;
  items?: JournalItem[];
  /** 16 FF45h payment slots (index 0 = slot 1, cash). */
  payments?: number[];
  changeMinor?: number;
  taxSystem?: number;
  tlvs?: JournalTlv[];
  ofdAcknowledged: boolean;
}

export interface EmulatorStats {
  /** Commands executed, by code ("FF46h": 3). Refused link-level frames are not counted. */
  commands: Record<string, number>;
  /** Commands executed that answered with a non-zero error code, by code and error ("FF45h:45h"). */
  errors: Record<string, number>;
  framesReceived: number;
  naksSent: number;
  enqReceived: number;
  acksReceived: number;
  answersSent: number;
  busyAnswers: number;
  powerCycles: number;
  receiptsCancelled: number;
  /** Total time spent executing commands (timing knobs). */
  busyMs: number;
  /**
   * Time the device spent waiting for the host: from the host's ACK of an answer (the end of a
   * command dialogue) to the next byte from the host, up to the moment stats() is called (so
   * the difference of two snapshots is exactly the idle time between them).
   * Link transfer and execution count as engaged; this is what a host's own slowness costs.
   */
  idleMs: number;
  /** idleMs split by the command whose answer ended the dialogue (hex code → ms): where the host lingers. */
  idleAfter: Record<string, number>;
}

const SYSADMIN = 30;
const ADMIN = 29;
const RECEIPT_TO_OP = [1, 3, 2, 4]; // 8Dh type → tag 1054
const OP_TO_RECEIPT: Record<number, number> = { 1: 0, 3: 1, 2: 2, 4: 3 };
const STRING_TAGS = new Set([1008, 1021, 1192, 1203, 1227, 1228, 1085, 1086, 1030, 1197, 1191]);
const STLV_TAGS = new Set([1084, 1223, 1224, 1174]);
const PRINT_COMMANDS = new Set([0xe0, 0x40, 0x41, 0x8d, 0x88, 0xff46, 0xff45]);
const FN_BLOCKED_COMMANDS = new Set([0xe0, 0x8d, 0xff46, 0xff45]);

interface OpenReceipt {
  type: number;
  items: JournalItem[];
  tlvs: JournalTlv[];
}

class Refuse {
  constructor(readonly code: number) {}
}

function decodeTlvList(buf: Buffer): JournalTlv[] {
  return parseTlvs(buf).map(({ tag, value }) => {
    const t: JournalTlv = { tag, hex: value.toString('hex').toUpperCase() };
    if (STRING_TAGS.has(tag)) t.text = decodeCp866(value);
    if (STLV_TAGS.has(tag)) {
      try {
        t.children = decodeTlvList(value);
      } catch {
        /* not an STLV after all */
      }
    }
    return t;
  });
}

export class ShtrihEmulator implements MemoryDevice {
  readonly model: ShtrihModel;
  readonly vatCodes: VatCodeTable;
  timing: EmulatorTiming;
  extendedAnswers: boolean;
  strictFf46: boolean;
  byteTimeoutMs: number;

  // ---- FN and device state
  private fnSerial: string;
  private lastFd: number;
  private shiftNumber: number;
  private shiftOpen: boolean;
  private shiftOpenedAt = 0;
  private receiptNumber = 0;
  private receipt: OpenReceipt | null = null;
  private subMode = 0;
  private prevMode = 4;
  private warnings = 0;
  private fnBlocked: number | null = null;
  private clockOffset = 0;
  private readonly clock: () => number;
  private readonly entries: JournalEntry[] = [];

  // ---- link state
  private peer: MemoryPeer | null = null;
  private unplugged = false;
  private poweredOff = false;
  private rx: number[] = [];
  private rxTimer: NodeJS.Timeout | null = null;
  private executing = false;
  private execTimer: NodeJS.Timeout | null = null;
  private pending: Buffer | null = null;
  private idleAfterCode = '';

  // ---- faults
  private f = ShtrihEmulator.noFaults();

  private static noFaults() {
    return {
      corruptAnswers: 0,
      corruptCode: null as number | null,
      nakFrames: 0,
      nakCode: null as number | null,
      dropAcks: 0,
      dropCode: null as number | null,
      cutAfter: null as number | null,
      cutCode: null as number | null,
      busyPolls: 0,
      activePaperOutAfterReceipt: false,
      powerLoss: null as { code: number; when: 'before' | 'after' } | null,
      junkBeforeAnswer: null as Buffer | null,
      ffAfterAck: false,
      delayNextAnswerMs: 0,
    };
  }

  /** When the last dialogue ended (host ACKed an answer); null while engaged. */
  private idleSince: number | null = null;
  private s: EmulatorStats = {
    commands: {},
    errors: {},
    framesReceived: 0,
    naksSent: 0,
    enqReceived: 0,
    acksReceived: 0,
    answersSent: 0,
    busyAnswers: 0,
    powerCycles: 0,
    receiptsCancelled: 0,
    busyMs: 0,
    idleMs: 0,
    idleAfter: {},
  };

  constructor(options: EmulatorOptions = {}) {
    this.model = options.model ?? 'shtrih';
    this.vatCodes = options.vatCodes ?? resolveVatTable(this.model);
    this.fnSerial = (options.fnSerial ?? '9999078900012345').padEnd(16, ' ').slice(0, 16);
    this.lastFd = options.lastFiscalDocumentNumber ?? 10;
    this.shiftNumber = options.shiftNumber ?? 1;
    this.clock = options.clock ?? Date.now;
    this.shiftOpen = options.shiftOpen ?? false;
    if (this.shiftOpen) this.shiftOpenedAt = this.now();
    this.byteTimeoutMs = options.byteTimeoutMs ?? 50;
    this.extendedAnswers = options.extendedAnswers ?? true;
    this.strictFf46 = options.strictFf46 ?? false;
    this.timing = { commandMs: 0, itemMs: 0, closeMs: 0, zReportMs: 0, xReportMs: 0, openShiftMs: 0, ...options.timing };
  }

  // ================================================================ observation

  /** Every fiscal document made, oldest first (deep copy). */
  journal(): JournalEntry[] {
    return structuredClone(this.entries);
  }

  /** Receipts only (host-made unless `includeForeign`). */
  receipts(includeForeign = false): JournalEntry[] {
    return this.journal().filter((e) => e.type === 'receipt' && (includeForeign || e.source === 'host'));
  }

  stats(): EmulatorStats {
    const s = structuredClone(this.s);
    if (this.idleSince !== null) {
      const ms = performance.now() - this.idleSince;
      s.idleMs += ms;
      s.idleAfter[this.idleAfterCode] = (s.idleAfter[this.idleAfterCode] ?? 0) + ms;
    }
    return s;
  }

  /** Executed count of one command code (e.g. 0xff45). */
  executed(code: number): number {
    return this.s.commands[hexCode(code)] ?? 0;
  }

  get state() {
    return {
      mode: this.modeByte() & 0x0f,
      modeByte: this.modeByte(),
      subMode: this.subMode,
      fnSerial: this.fnSerial,
      lastFiscalDocumentNumber: this.lastFd,
      shiftNumber: this.shiftNumber,
      shiftOpen: this.shiftOpen,
      receiptNumber: this.receiptNumber,
      receiptOpen: !!this.receipt,
      pendingAnswer: !!this.pending,
      executing: this.executing,
      fnBlocked: this.fnBlocked,
      ofdQueue: this.entries.filter((e) => !e.ofdAcknowledged).length,
    };
  }

  now(): number {
    return this.clock() + this.clockOffset;
  }

  // ================================================================ fault knobs

  /** Every fault knob back to normal (paper, FN block, shift age and warnings are state, not faults). */
  clearFaults(): void {
    this.f = ShtrihEmulator.noFaults();
  }
  /** The next n answers (including re-sends) go out with a wrong LRC; only answers to `code` if given. */
  corruptNextAnswers(n = 1, code?: number): void {
    this.f.corruptAnswers += n;
    this.f.corruptCode = code ?? null;
  }
  /** The next n frames from the host (of command `code` if given) are refused with NAK, as if garbled; not executed. */
  nakNextFrames(n = 1, code?: number): void {
    this.f.nakFrames += n;
    this.f.nakCode = code ?? null;
  }
  /** The next n commands (of `code` if given) are received and executed but their ACK is lost on the wire. */
  dropNextAcks(n = 1, code?: number): void {
    this.f.dropAcks += n;
    this.f.dropCode = code ?? null;
  }
  /** The next answer (to `code` if given) stops after k bytes; it stays pending, ENQ gets it whole. */
  cutNextAnswer(k: number, code?: number): void {
    this.f.cutAfter = k;
    this.f.cutCode = code ?? null;
  }
  /** Busy printing for the next n 10h polls: 10h shows sub-mode 5, other commands get 50h. */
  busy(polls: number): void {
    this.f.busyPolls = polls;
  }
  /** Sub-mode 3: waiting for B0h; print commands get 58h. */
  waitForContinuePrint(): void {
    this.subMode = 3;
  }
  /** Passive paper-out (sub-mode 1): print commands get 6Bh, nothing is fiscalised. */
  paperOut(): void {
    this.subMode = 1;
  }
  /** Active paper-out: the next FF45h fiscalises the receipt, then paper runs out (sub-mode 2 → 3 after loadPaper). */
  paperOutAfterNextReceipt(): void {
    this.f.activePaperOutAfterReceipt = true;
  }
  /** The operator loads paper: sub-mode 1 → 0, 2 → 3 (then B0h). */
  loadPaper(): void {
    if (this.subMode === 1) this.subMode = 0;
    else if (this.subMode === 2) this.subMode = 3;
  }
  /** Moves the device clock forward. */
  advanceClock(ms: number): void {
    this.clockOffset += ms;
  }
  /** Makes the open shift older by `ms` (e.g. 25 h → mode 3). */
  ageShift(ms: number): void {
    this.shiftOpenedAt -= ms;
  }
  /** A receipt left open (as after a crash): mode 8.x, FN current document 04h. */
  openOrphanReceipt(receiptType = 0): void {
    if (!this.shiftOpen) this.doOpenShift();
    this.receipt = { type: receiptType, items: [], tlvs: [] };
  }
  /** Power off and on: the pending answer and a command in execution are forgotten, FN state kept. */
  powerCycle(): void {
    this.s.powerCycles++;
    if (this.execTimer) clearTimeout(this.execTimer);
    this.execTimer = null;
    this.executing = false;
    this.pending = null;
    this.resetRx();
    this.f.busyPolls = 0;
    if (this.subMode === 4 || this.subMode === 5) this.subMode = 0;
  }
  /**
   * Loses power around the next execution of `code`: 'before' = the frame is ACKed but never
   * executed; 'after' = executed (FN document made) but the answer is never sent.
   */
  powerLossOn(code: number, when: 'before' | 'after'): void {
    this.f.powerLoss = { code, when };
  }
  /** Another program printed a receipt: FD number (and receipt counter) advance. */
  foreignReceipt(opts: { opType?: number; totalMinor?: number } = {}): JournalEntry {
    if (!this.shiftOpen) this.doOpenShift();
    const opType = opts.opType ?? 1;
    return this.fiscalise({
      type: 'receipt',
      source: 'foreign',
      receiptType: OP_TO_RECEIPT[opType] ?? 0,
      opType,
      totalMinor: opts.totalMinor ?? 100,
      items: [],
      payments: [opts.totalMinor ?? 100, ...new Array<number>(15).fill(0)],
      changeMinor: 0,
      taxSystem: 1,
      tlvs: [],
    });
  }
  /** FN refuses to form documents with this code (0x14 30-day OFD block, 0x12 exhausted); null clears. */
  blockFn(code: number | null): void {
    this.fnBlocked = code;
  }
  /** FF01h warning bits (b0 ≤3 days, b1 ≤30 days, b2 archive 90 %, b3 OFD timeout). */
  setWarnings(bits: number): void {
    this.warnings = bits;
  }
  /** OFD acknowledges every document up to `fd` (all by default). */
  ofdAcknowledge(fd = Infinity): void {
    for (const e of this.entries) if (e.fiscalDocumentNumber <= fd) e.ofdAcknowledged = true;
  }
  /** Sends these bytes to the host now (line noise). */
  injectBytes(bytes: Uint8Array | number[]): void {
    this.out(Buffer.from(bytes));
  }
  /** Noise sent just before the next answer frame. */
  junkBeforeNextAnswer(bytes: Uint8Array | number[]): void {
    this.f.junkBeforeAnswer = Buffer.from(bytes);
  }
  /** TCP/RNDIS quirk: one FFh after every ACK from the host. */
  setFfAfterAck(on: boolean): void {
    this.f.ffAfterAck = on;
  }
  /** The next command takes this much longer (beyond the host's command timeout, say). */
  delayNextAnswer(ms: number): void {
    this.f.delayNextAnswerMs = ms;
  }
  /** The cable is pulled: the connected transport closes; connecting fails until replug(). */
  unplug(): void {
    this.unplugged = true;
    const p = this.peer;
    this.peer = null;
    this.resetRx();
    p?.disconnected();
  }
  replug(): void {
    this.unplugged = false;
  }

  // ================================================================ byte stream

  /** MemoryDevice: one host connection at a time (a new one replaces the old). */
  connect(peer: MemoryPeer): MemoryConnection {
    if (this.unplugged) throw new Error('device unplugged');
    this.peer = peer;
    return {
      send: (b) => {
        if (this.peer === peer) this.feed(b);
      },
      close: () => {
        if (this.peer === peer) this.peer = null;
      },
    };
  }

  private out(bytes: Buffer): void {
    if (this.poweredOff || !bytes.length) return;
    this.peer?.receive(bytes);
  }

  private resetRx(): void {
    this.rx = [];
    if (this.rxTimer) clearTimeout(this.rxTimer);
    this.rxTimer = null;
  }

  /** Bytes from the host. */
  feed(bytes: Uint8Array | number[]): void {
    if (this.idleSince !== null) {
      const ms = performance.now() - this.idleSince;
      this.s.idleMs += ms;
      this.s.idleAfter[this.idleAfterCode] = (this.s.idleAfter[this.idleAfterCode] ?? 0) + ms;
      this.idleSince = null;
    }
    for (const b of bytes) this.onByte(b);
    // The byte timeout runs from the last byte received; arming it once per chunk (not per
    // byte) keeps a long frame from costing a timer per byte.
    if (this.rx.length) this.armRxTimer();
  }

  private onByte(b: number): void {
    if (this.poweredOff) return;
    if (this.rx.length) {
      this.rx.push(b);
      const len = this.rx[1];
      if (len !== undefined && this.rx.length === len + 3) {
        const frame = Buffer.from(this.rx);
        this.resetRx();
        this.onFrame(frame);
      }
      return;
    }
    switch (b) {
      case ENQ:
        this.s.enqReceived++;
        if (this.executing) this.out(Buffer.from([ACK]));
        else if (this.pending) {
          this.out(Buffer.from([ACK]));
          this.sendAnswer();
        } else this.out(Buffer.from([NAK]));
        return;
      case STX:
        this.rx = [b];
        return;
      case ACK:
        this.s.acksReceived++;
        if (this.pending) {
          this.idleAfterCode = hexCode(readCommandCode(this.pending.subarray(2)).code);
          this.pending = null;
          this.idleSince = performance.now();
        }
        if (this.f.ffAfterAck) this.out(Buffer.from([0xff]));
        return;
      default:
        return; // NAK keeps the answer; anything else is noise
    }
  }

  private armRxTimer(): void {
    if (this.rxTimer) clearTimeout(this.rxTimer);
    this.rxTimer = setTimeout(() => {
      this.resetRx();
      this.nak();
    }, this.byteTimeoutMs);
  }

  private nak(): void {
    this.s.naksSent++;
    this.out(Buffer.from([NAK]));
  }

  private onFrame(frame: Buffer): void {
    const len = frame[1]!;
    if (len === 0 || lrc(frame.subarray(1, len + 2)) !== frame[len + 2]) return this.nak();
    const body = frame.subarray(2, 2 + len);
    let code: number;
    let data: Buffer;
    try {
      const c = readCommandCode(body);
      code = c.code;
      data = Buffer.from(body.subarray(c.size));
    } catch {
      code = body[0]!;
      data = Buffer.alloc(0);
    }
    const hits = (filter: number | null) => filter === null || filter === code;
    if (this.f.nakFrames > 0 && hits(this.f.nakCode)) {
      this.f.nakFrames--;
      return this.nak();
    }
    if (this.executing) return; // one command at a time; the host should have sent ENQ first
    this.s.framesReceived++;
    if (this.f.dropAcks > 0 && hits(this.f.dropCode)) this.f.dropAcks--;
    else this.out(Buffer.from([ACK]));
    this.pending = null;

    const loss = this.f.powerLoss && this.f.powerLoss.code === code ? this.f.powerLoss.when : null;
    if (loss) this.f.powerLoss = null;
    if (loss === 'before') return this.powerCycle();

    const answer = this.execute(code, data);
    const delay = this.executionMs(code, data, answer) + this.f.delayNextAnswerMs;
    this.f.delayNextAnswerMs = 0;
    this.s.busyMs += delay;
    const finish = () => {
      this.execTimer = null;
      this.executing = false;
      if (loss === 'after') return this.powerCycle();
      this.pending = encodeBody(answer);
      this.sendAnswer();
    };
    this.executing = true;
    if (delay > 0) this.execTimer = setTimeout(finish, delay);
    else finish();
  }

  private executionMs(code: number, _data: Buffer, answer: Buffer): number {
    const ok = answer[commandBytes(code).length] === 0;
    let ms = this.timing.commandMs;
    if (!ok) return ms;
    if (code === 0xff46) ms += this.timing.itemMs;
    if (code === 0xff45) ms += this.timing.closeMs;
    if (code === 0x41) ms += this.timing.zReportMs;
    if (code === 0x40) ms += this.timing.xReportMs;
    if (code === 0xe0) ms += this.timing.openShiftMs;
    return ms;
  }

  private sendAnswer(): void {
    const answer = this.pending;
    if (!answer) return;
    if (this.f.junkBeforeAnswer) {
      this.out(this.f.junkBeforeAnswer);
      this.f.junkBeforeAnswer = null;
    }
    let bytes = answer;
    const code = readCommandCode(answer.subarray(2)).code;
    const hits = (filter: number | null) => filter === null || filter === code;
    if (this.f.corruptAnswers > 0 && hits(this.f.corruptCode)) {
      this.f.corruptAnswers--;
      bytes = Buffer.from(answer);
      bytes[bytes.length - 1] ^= 0x5a;
    }
    if (this.f.cutAfter !== null && hits(this.f.cutCode)) {
      bytes = bytes.subarray(0, this.f.cutAfter);
      this.f.cutAfter = null;
    }
    this.s.answersSent++;
    this.out(bytes);
  }

  // ================================================================ state machine

  private modeByte(): number {
    if (this.receipt) return 0x08 | (this.receipt.type << 4);
    if (!this.shiftOpen) return 4;
    return this.shiftExpired() ? 3 : 2;
  }

  private shiftExpired(): boolean {
    return this.shiftOpen && this.now() - this.shiftOpenedAt > 24 * 3600_000;
  }

  private dateTime(): Buffer {
    return encodeDateTime(new Date(this.now()));
  }

  private fiscalSignFor(fd: number): number {
    let h = 2166136261;
    for (const ch of `${this.fnSerial}:${fd}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    return h >>> 0;
  }

  private fiscalise(e: Omit<JournalEntry, 'fiscalDocumentNumber' | 'fiscalSign' | 'dateTime' | 'shiftNumber' | 'ofdAcknowledged'>): JournalEntry {
    this.lastFd++;
    const entry: JournalEntry = {
      fiscalDocumentNumber: this.lastFd,
      fiscalSign: this.fiscalSignFor(this.lastFd),
      dateTime: new Date(Math.floor(this.now() / 60_000) * 60_000).toISOString(),
      shiftNumber: this.shiftNumber,
      ofdAcknowledged: false,
      ...e,
    };
    if (e.type === 'receipt') entry.receiptNumber = ++this.receiptNumber;
    this.entries.push(entry);
    return entry;
  }

  private doOpenShift(): void {
    this.shiftNumber++;
    this.shiftOpen = true;
    this.shiftOpenedAt = this.now();
    this.receiptNumber = 0;
    this.fiscalise({ type: 'shift_open', source: 'host' });
  }

  private answer(code: number, error: number, data: Buffer = Buffer.alloc(0)): Buffer {
    return Buffer.concat([commandBytes(code), Buffer.from([error]), error ? Buffer.alloc(0) : data]);
  }

  private execute(code: number, data: Buffer): Buffer {
    const name = hexCode(code);
    this.s.commands[name] = (this.s.commands[name] ?? 0) + 1;
    let result: Buffer;
    try {
      result = this.answer(code, 0, this.run(code, data));
    } catch (e) {
      if (!(e instanceof Refuse)) throw e;
      const key = `${name}:${hexCode(e.code)}`;
      this.s.errors[key] = (this.s.errors[key] ?? 0) + 1;
      result = this.answer(code, e.code);
    }
    return result;
  }

  private operatorFor(data: Buffer, minClass: 1 | 2 | 3): number {
    if (data.length < 4) throw new Refuse(0x01);
    const pwd = data.readUInt32LE(0);
    const ok = minClass === 3 ? pwd === SYSADMIN : minClass === 2 ? pwd === SYSADMIN || pwd === ADMIN : pwd >= 1 && pwd <= 30;
    if (!ok) throw new Refuse(0x4f);
    return pwd;
  }

  private run(code: number, data: Buffer): Buffer {
    if (code === 0xfc) return this.deviceType();
    const op = this.operatorFor(data, code > 0xff ? 3 : code === 0x40 || code === 0x41 ? 2 : 1);
    const args = data.subarray(4);

    if (code === 0x10) return this.shortStatus(op);
    if (this.f.busyPolls > 0) {
      this.s.busyAnswers++;
      throw new Refuse(0x50);
    }
    if (PRINT_COMMANDS.has(code)) {
      if (this.subMode === 1 || this.subMode === 2) throw new Refuse(0x6b);
      if (this.subMode === 3) throw new Refuse(0x58);
    }
    if (this.fnBlocked !== null && FN_BLOCKED_COMMANDS.has(code)) throw new Refuse(this.fnBlocked);
    const opByte = Buffer.from([op]);
    const mode = this.modeByte() & 0x0f;

    switch (code) {
      case 0xff01:
        return this.fnStatus();
      case 0xff40:
        return Buffer.concat([Buffer.from([this.shiftOpen ? 1 : 0]), encodeUInt(this.shiftNumber, 2), encodeUInt(this.receiptNumber, 2)]);
      case 0xff39:
        return this.ofdStatus();
      case 0xff0a:
        return this.findDocument(args);
      case 0xe0:
        if (mode === 8) throw new Refuse(0x4a);
        if (mode !== 4) throw new Refuse(0x73);
        this.prevMode = mode;
        this.doOpenShift();
        return opByte;
      case 0x40:
        if (mode === 8) throw new Refuse(0x4a);
        return opByte;
      case 0x41:
        if (mode === 8) throw new Refuse(0x4a);
        if (mode !== 2 && mode !== 3) throw new Refuse(0x73);
        this.prevMode = mode;
        this.fiscalise({ type: 'shift_close', source: 'host' });
        this.shiftOpen = false;
        return opByte;
      case 0x8d: {
        if (args.length < 1) throw new Refuse(0x01);
        const type = args[0]!;
        if (type > 3) throw new Refuse(0x33);
        this.openReceipt(mode, type);
        return opByte;
      }
      case 0x88:
        if (!this.receipt) throw new Refuse(0x55);
        this.receipt = null;
        this.s.receiptsCancelled++;
        return opByte;
      case 0xb0:
        if (this.subMode === 1 || this.subMode === 2) throw new Refuse(0x6b);
        if (this.subMode === 3) this.subMode = 0;
        return opByte;
      case 0xff0c:
        return this.receiptTlv(args);
      case 0xff4d:
        return this.itemTlv(args);
      case 0xff46:
        return this.operation(mode, args);
      case 0xff45:
        return this.closeReceipt(args);
      default:
        throw new Refuse(0x01);
    }
  }

  private openReceipt(mode: number, type: number): void {
    if (mode === 8) throw new Refuse(0x4a);
    if (mode === 3) throw new Refuse(0x4e);
    if (mode === 4) this.doOpenShift(); // the device opens the shift by itself
    this.prevMode = mode;
    this.receipt = { type, items: [], tlvs: [] };
  }

  private shortStatus(op: number): Buffer {
    const d = Buffer.alloc(14);
    const paper = this.subMode !== 1 && this.subMode !== 2;
    const flags = 0x0001 | 0x0040 | (paper ? 0x0002 | 0x0080 : 0);
    d[0] = op;
    d.writeUInt16LE(flags, 1);
    d[3] = this.modeByte();
    let sub = this.subMode;
    if (this.f.busyPolls > 0) {
      this.f.busyPolls--;
      sub = 5;
    }
    d[4] = sub;
    const ops = this.receipt?.items.length ?? 0;
    d[5] = ops & 0xff;
    d[6] = 0x9c; // battery
    d[7] = 0xb4; // supply
    d[10] = (ops >> 8) & 0xff;
    d[11] = this.prevMode;
    d[13] = sub === 5 ? 5 : 0;
    return d;
  }

  private fnStatus(): Buffer {
    return Buffer.concat([
      Buffer.from([0x03, this.receipt ? 0x04 : 0x00, this.receipt && (this.receipt.items.length || this.receipt.tlvs.length) ? 1 : 0, this.shiftOpen ? 1 : 0, this.warnings]),
      this.dateTime(),
      Buffer.from(this.fnSerial, 'latin1'),
      encodeUInt(this.lastFd, 4),
    ]);
  }

  private ofdStatus(): Buffer {
    const queue = this.entries.filter((e) => !e.ofdAcknowledged);
    const first = queue[0];
    return Buffer.concat([
      Buffer.from([0x01 | (queue.length ? 0x02 : 0), 0]),
      encodeUInt(Math.min(queue.length, 0xffff), 2),
      encodeUInt(first?.fiscalDocumentNumber ?? 0, 4),
      first ? encodeDateTime(new Date(first.dateTime)) : Buffer.alloc(5),
    ]);
  }

  private findDocument(args: Buffer): Buffer {
    if (args.length < 4) throw new Refuse(0x01);
    const fd = args.readUInt32LE(0);
    const e = this.entries.find((x) => x.fiscalDocumentNumber === fd);
    if (!e) throw new Refuse(0x08);
    const type = e.type === 'receipt' ? FN_DOCUMENT_TYPE.RECEIPT : e.type === 'shift_open' ? FN_DOCUMENT_TYPE.SHIFT_OPEN : FN_DOCUMENT_TYPE.SHIFT_CLOSE;
    const head = Buffer.concat([
      Buffer.from([type, e.ofdAcknowledged ? 1 : 0]),
      encodeDateTime(new Date(e.dateTime)),
      encodeUInt(e.fiscalDocumentNumber, 4),
      encodeUInt(e.fiscalSign, 4),
    ]);
    if (e.type === 'receipt') return Buffer.concat([head, Buffer.from([e.opType ?? 1]), encodeMoney(e.totalMinor ?? 0)]);
    return Buffer.concat([head, encodeUInt(e.shiftNumber, 2)]);
  }

  private parseTlvs(args: Buffer): JournalTlv[] {
    if (args.length < 4) throw new Refuse(0x01);
    if (args.length > 250) throw new Refuse(0x10);
    try {
      return decodeTlvList(args);
    } catch {
      throw new Refuse(0x33);
    }
  }

  private receiptTlv(args: Buffer): Buffer {
    if (!this.receipt) throw new Refuse(0x55);
    this.receipt.tlvs.push(...this.parseTlvs(args));
    return Buffer.alloc(0);
  }

  private itemTlv(args: Buffer): Buffer {
    const item = this.receipt?.items[this.receipt.items.length - 1];
    if (!item) throw new Refuse(this.receipt ? 0x33 : 0x55);
    item.tlvs.push(...this.parseTlvs(args));
    return Buffer.alloc(0);
  }

  private operation(mode: number, a: Buffer): Buffer {
    if (a.length < 27) throw new Refuse(0x01);
    const opType = a[0]!;
    if (opType < 1 || opType > 4) throw new Refuse(0x33);
    if (!this.receipt) {
      if (mode === 3) throw new Refuse(0x4e);
      if (this.strictFf46) throw new Refuse(0x55);
      this.openReceipt(mode, OP_TO_RECEIPT[opType]!);
    }
    const receipt = this.receipt!;
    if (RECEIPT_TO_OP[receipt.type] !== opType) throw new Refuse(0x33);
    const quantityMicro = a.readUIntLE(1, 6);
    const priceMinor = decodeMoney(a, 7);
    const amountAuto = isMoneyAuto(a, 12);
    const taxAuto = isMoneyAuto(a, 17);
    const vatCode = a[22]!;
    const department = a[23]!;
    const paymentMethod = a[24]!;
    const paymentSubject = a[25]!;
    const nameBytes = a.subarray(26);
    if (nameBytes.length > 128) throw new Refuse(0x33);
    if (quantityMicro === 0) throw new Refuse(0x33);
    if (!Object.values(this.vatCodes).includes(vatCode)) throw new Refuse(0x33);
    if (department > 16) throw new Refuse(0x33);
    if (paymentMethod < 1 || paymentMethod > 7) throw new Refuse(0x33);
    if (paymentSubject < 1) throw new Refuse(0x33);
    const computed = Number((BigInt(priceMinor) * BigInt(quantityMicro) + 500_000n) / 1_000_000n);
    const amountMinor = amountAuto ? computed : decodeMoney(a, 12);
    if (!amountAuto && Math.abs(amountMinor - computed) > 1 && priceMinor !== 0) throw new Refuse(0x33);
    const total = receipt.items.reduce((s, i) => s + i.amountMinor, 0) + amountMinor;
    if (total > 9_999_999_999) throw new Refuse(0x48);
    receipt.items.push({
      opType,
      name: decodeCp1251(nameBytes),
      quantityMicro,
      priceMinor,
      amountMinor,
      amountAuto,
      taxAuto,
      vatCode,
      department,
      paymentMethod,
      paymentSubject,
      tlvs: [],
    });
    return Buffer.alloc(0);
  }

  private closeReceipt(a: Buffer): Buffer {
    if (!this.receipt) throw new Refuse(0x55);
    if (a.length < 112) throw new Refuse(0x01);
    const textBytes = a.subarray(112);
    if (textBytes.length > 64) throw new Refuse(0x33);
    const payments = Array.from({ length: 16 }, (_, i) => decodeMoney(a, i * 5));
    const rounding = a[80]!;
    if (rounding > 99) throw new Refuse(0x33);
    const taxSystem = a[111]!;
    if (![1, 2, 4, 8, 16, 32].includes(taxSystem)) throw new Refuse(0x33);
    const receipt = this.receipt;
    const total = receipt.items.reduce((s, i) => s + i.amountMinor, 0) - rounding;
    if (total <= 0) throw new Refuse(0x8e);
    const paid = payments.reduce((s, p) => s + p, 0);
    if (paid < total) throw new Refuse(0x45);
    if (paid - payments[0]! > total) throw new Refuse(0x4d);
    const changeMinor = paid - total;
    const entry = this.fiscalise({
      type: 'receipt',
      source: 'host',
      receiptType: receipt.type,
      opType: RECEIPT_TO_OP[receipt.type]!,
      totalMinor: total,
      items: receipt.items,
      payments,
      changeMinor,
      taxSystem,
      tlvs: receipt.tlvs,
    });
    this.receipt = null;
    if (this.f.activePaperOutAfterReceipt) {
      this.f.activePaperOutAfterReceipt = false;
      this.subMode = 2;
    }
    return Buffer.concat([
      encodeMoney(changeMinor),
      encodeUInt(entry.fiscalDocumentNumber, 4),
      encodeUInt(entry.fiscalSign, 4),
      this.extendedAnswers ? encodeDateTime(new Date(entry.dateTime)) : Buffer.alloc(0),
    ]);
  }

  private deviceType(): Buffer {
    return Buffer.concat([Buffer.from([0, 0, 1, 17, 0, 0]), encodeCp1251('ШТРИХ-ЭМУЛЯТОР (тест)')]);
  }
}
