/**
 * Host side of the Shtrih-M standard lower level (reference §1.2):
 *
 *   ENQ before every send. NAK → the device is idle: send the frame. ACK → an answer is
 *   pending: read it, ACK it and hand it to the stale-answer sink (it belongs to an earlier
 *   command), then start over. Nothing → ENQ again, N times.
 *   A frame answered by NAK or nothing is never resent blindly: the next step is always a
 *   fresh ENQ probe, and an ENQ answered by ACK after our frame went out means the device
 *   has it — the answer is read, not the command resent.
 *   Reading an answer: STX within the command's timeout, then LEN, body and LRC with the byte
 *   timeout; bad LRC or a gap → NAK, ENQ, read again (< N times).
 *
 * One command is in flight per port (a promise queue). When the port closes mid-call the call
 * fails with LinkError and the next call opens a new transport.
 */
import { LinkError } from '../register';
import { ACK, ENQ, NAK, STX, encodeFrame, hexCode, lrc, readCommandCode } from './codec';
import { COMMAND_NAMES, type CommandRequest, type TimeoutClass } from './commands';
import { createTransport, describeTransport, type ByteTransport, type TransportSpec } from './transport';

/** pino-compatible logger (only the methods used). */
export interface LoggerLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LinkTimeouts {
  /** T_ctrl: wait for ACK/NAK after ENQ or after a frame. */
  controlMs: number;
  /** T_byte: gap allowed between bytes of an answer. */
  byteMs: number;
  /** T_cmd for most commands (status, sale, close, cancel, FN commands). */
  commandMs: number;
  xReportMs: number;
  zReportMs: number;
  openShiftMs: number;
  /** Multiplies every timeout above (tests run with e.g. 0.01). */
  scale: number;
}

export const DEFAULT_TIMEOUTS: LinkTimeouts = {
  controlMs: 500,
  byteMs: 100,
  commandMs: 10_000,
  xReportMs: 30_000,
  zReportMs: 65_000,
  openShiftMs: 35_000,
  scale: 1,
};

export interface LinkRetries {
  /** ENQ probes left unanswered before "no link". */
  enq: number;
  /** Transmissions of one frame the device refused (NAK / silence). */
  frame: number;
  /** Attempts to read one answer (bad LRC, gap mid-answer, no STX in time). */
  read: number;
}

export const DEFAULT_RETRIES: LinkRetries = { enq: 10, frame: 10, read: 10 };

export interface RawAnswer {
  code: number;
  error: number;
  /** DATA after the code and the error byte. */
  data: Buffer;
  receivedAt: number;
}

export interface LinkOptions {
  transport: TransportSpec;
  timeouts?: Partial<LinkTimeouts>;
  retries?: Partial<LinkRetries>;
  logger?: LoggerLike;
  /** An answer found pending on the link that belongs to an earlier command. */
  onStaleAnswer?: (answer: RawAnswer) => void;
}

export interface LinkStats {
  commands: number;
  enqSent: number;
  framesSent: number;
  naksSent: number;
  staleAnswers: number;
  badAnswers: number;
  reopens: number;
}

class PortClosed extends Error {}

/** Incoming bytes with a single waiting reader. */
class Inbox {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private closed: Error | null = null;

  push(b: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : Buffer.from(b);
    this.wake?.();
  }
  close(err: Error): void {
    this.closed = err;
    this.wake?.();
  }
  clear(): void {
    this.buf = Buffer.alloc(0);
  }
  /** Next byte, or null after `timeoutMs`; throws PortClosed when the port went away. */
  async read(timeoutMs: number): Promise<number | null> {
    for (;;) {
      if (this.buf.length) {
        const b = this.buf[0]!;
        this.buf = this.buf.subarray(1);
        return b;
      }
      if (this.closed) throw new PortClosed(this.closed.message);
      if (timeoutMs <= 0) return null;
      const started = Date.now();
      const woke = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          this.wake = null;
          resolve(false);
        }, timeoutMs);
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve(true);
        };
      });
      if (!woke) return this.buf.length ? this.read(0) : null;
      timeoutMs -= Date.now() - started;
    }
  }
}

export class ShtrihLink {
  readonly description: string;
  readonly timeouts: LinkTimeouts;
  readonly retries: LinkRetries;
  readonly stats: LinkStats = { commands: 0, enqSent: 0, framesSent: 0, naksSent: 0, staleAnswers: 0, badAnswers: 0, reopens: 0 };
  private transport: ByteTransport | null = null;
  private inbox = new Inbox();
  private queue: Promise<unknown> = Promise.resolve();
  private opening: Promise<void> | null = null;
  private everOpened = false;
  private readonly log: LoggerLike | undefined;

  constructor(private readonly options: LinkOptions) {
    this.description = describeTransport(options.transport);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.retries = { ...DEFAULT_RETRIES, ...options.retries };
    this.log = options.logger;
  }

  get isOpen(): boolean {
    return !!this.transport?.isOpen;
  }

  /** Timeout in ms after scaling. */
  ms(kind: keyof Omit<LinkTimeouts, 'scale'>): number {
    return Math.max(1, Math.round(this.timeouts[kind] * this.timeouts.scale));
  }

  commandTimeout(t: TimeoutClass): number {
    return this.ms(t === 'xReport' ? 'xReportMs' : t === 'zReport' ? 'zReportMs' : t === 'openShift' ? 'openShiftMs' : 'commandMs');
  }

  /** Opens the port if needed. Throws LinkError(outcomeUnknown=false). */
  async open(): Promise<void> {
    if (this.transport?.isOpen) return;
    this.opening ??= this.doOpen().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    const t = createTransport(this.options.transport);
    const inbox = new Inbox();
    t.on('data', (b: Buffer) => inbox.push(b));
    t.on('error', (err: Error) => this.log?.warn({ port: this.description, err: err.message }, 'kkt port error'));
    t.on('close', (err?: Error) => {
      inbox.close(err ?? new Error('port closed'));
      if (this.transport === t) {
        this.transport = null;
        this.log?.warn({ port: this.description, err: err?.message }, 'kkt port closed');
      }
    });
    try {
      await t.open();
    } catch (err) {
      throw new LinkError(`cannot open ${this.description}: ${(err as Error).message}`, false);
    }
    if (this.everOpened) this.stats.reopens++;
    this.everOpened = true;
    this.transport = t;
    this.inbox = inbox;
    this.log?.debug({ port: this.description }, 'kkt port open');
  }

  /** Closes the port; an answer pending in the device stays there. */
  async close(): Promise<void> {
    const t = this.transport;
    this.transport = null;
    if (t) await t.close().catch(() => undefined);
  }

  /** Runs one command exclusively: the whole ENQ/frame/answer dialogue. */
  execute(req: CommandRequest): Promise<RawAnswer> {
    return this.exclusive(() => this.transact(req));
  }

  /** ENQ until the device says NAK (idle), collecting any pending answer as stale. */
  probe(): Promise<void> {
    return this.exclusive(() => this.drain());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async send(bytes: Buffer): Promise<void> {
    const t = this.transport;
    if (!t || !t.isOpen) throw new PortClosed('port closed');
    try {
      await t.write(bytes);
    } catch (err) {
      // A port that failed a write is done for: the next call opens a fresh one.
      if (this.transport === t) this.transport = null;
      void t.close().catch(() => undefined);
      throw new PortClosed((err as Error).message);
    }
  }

  private async sendControl(byte: number): Promise<void> {
    if (byte === ENQ) this.stats.enqSent++;
    if (byte === NAK) this.stats.naksSent++;
    await this.send(Buffer.from([byte]));
  }

  /** ACK or NAK within `timeoutMs`, skipping anything else (FFh after ACK, junk). */
  private async readControl(timeoutMs: number): Promise<number | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const b = await this.inbox.read(end - Date.now());
      if (b === null) return null;
      if (b === ACK || b === NAK) return b;
    }
  }

  /** One answer frame; null on timeout, gap or bad LRC (the caller NAKs). */
  private async readAnswer(timeoutMs: number): Promise<RawAnswer | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const b = await this.inbox.read(end - Date.now());
      if (b === null) return null;
      if (b === STX) break;
    }
    const byteMs = this.ms('byteMs');
    const len = await this.inbox.read(byteMs);
    if (len === null || len === 0) return null;
    const frame = Buffer.alloc(len + 2);
    frame[0] = len;
    for (let i = 1; i < len + 2; i++) {
      const b = await this.inbox.read(byteMs);
      if (b === null) return null;
      frame[i] = b;
    }
    if (lrc(frame.subarray(0, len + 1)) !== frame[len + 1]) return null;
    const body = frame.subarray(1, len + 1);
    try {
      const { code, size } = readCommandCode(body);
      if (body.length < size + 1) return null;
      return { code, error: body[size]!, data: Buffer.from(body.subarray(size + 1)), receivedAt: Date.now() };
    } catch {
      return null;
    }
  }

  private stale(ans: RawAnswer): void {
    this.stats.staleAnswers++;
    this.log?.warn({ port: this.description, cmd: hexCode(ans.code), error: ans.error }, 'kkt stale answer found on the link (belongs to an earlier command)');
    try {
      this.options.onStaleAnswer?.(ans);
    } catch {
      /* a sink must not break the link */
    }
  }

  private async drain(): Promise<void> {
    try {
      await this.open();
      let misses = 0;
      let readFails = 0;
      for (;;) {
        this.inbox.clear();
        await this.sendControl(ENQ);
        const c = await this.readControl(this.ms('controlMs'));
        if (c === null) {
          if (++misses >= this.retries.enq) throw new LinkError(`${this.description}: no answer to ENQ (${misses} tries)`, false);
          continue;
        }
        if (c === NAK) return;
        const ans = await this.readAnswer(this.ms('commandMs'));
        if (!ans) {
          this.stats.badAnswers++;
          if (++readFails >= this.retries.read) throw new LinkError(`${this.description}: pending answer unreadable`, false);
          await this.sendControl(NAK);
          continue;
        }
        await this.sendControl(ACK);
        this.stale(ans);
      }
    } catch (err) {
      if (err instanceof PortClosed) throw new LinkError(`${this.description}: port closed (${err.message})`, false);
      throw err;
    }
  }

  private async transact(req: CommandRequest): Promise<RawAnswer> {
    const name = `${hexCode(req.code)} ${COMMAND_NAMES[req.code] ?? ''}`.trim();
    const frame = encodeFrame(req.code, req.data);
    const cmdTimeout = this.commandTimeout(req.timeout);
    const controlMs = this.ms('controlMs');
    this.stats.commands++;
    /** Our frame went out since the last ENQ→NAK: the device may hold it. */
    let maybeReceived = false;
    /** The device ACKed our frame. */
    let accepted = false;
    let enqMisses = 0;
    let transmissions = 0;
    let readFails = 0;
    const fail = (why: string) => new LinkError(`${this.description}: ${name}: ${why}`, maybeReceived || accepted);

    await this.open();
    try {
      for (;;) {
        this.inbox.clear();
        await this.sendControl(ENQ);
        const c = await this.readControl(controlMs);
        if (c === null) {
          if (++enqMisses >= this.retries.enq) throw fail(`no answer to ENQ (${enqMisses} tries)`);
          continue;
        }
        if (c === ACK) {
          // An answer is pending or being prepared. Ours if our frame went out; else stale.
          const ans = await this.readAnswer(maybeReceived ? cmdTimeout : Math.max(cmdTimeout, this.ms('commandMs')));
          if (!ans) {
            this.stats.badAnswers++;
            if (++readFails >= this.retries.read) throw fail(`answer unreadable after ${readFails} tries`);
            await this.sendControl(NAK);
            continue;
          }
          await this.sendControl(ACK);
          if (maybeReceived && ans.code === req.code) return this.done(name, ans);
          this.stale(ans);
          continue;
        }
        // NAK: the device is idle and holds nothing.
        if (accepted) throw new LinkError(`${this.description}: ${name}: device accepted the command but holds no answer (power cycle?)`, true);
        maybeReceived = false;
        if (transmissions >= this.retries.frame) throw fail(`frame refused ${transmissions} times`);
        transmissions++;
        maybeReceived = true;
        this.stats.framesSent++;
        this.log?.debug({ port: this.description, cmd: name, len: frame.length - 3, try: transmissions }, 'kkt send');
        await this.send(frame);
        const a = await this.readControl(controlMs);
        if (a !== ACK) {
          this.log?.debug({ port: this.description, cmd: name, reply: a === null ? 'none' : 'NAK' }, 'kkt frame not acknowledged; re-probing');
          continue; // never resend without a fresh ENQ probe
        }
        accepted = true;
        const ans = await this.readAnswer(cmdTimeout);
        if (!ans) {
          this.stats.badAnswers++;
          if (++readFails >= this.retries.read) throw fail(`answer unreadable after ${readFails} tries`);
          await this.sendControl(NAK);
          continue;
        }
        await this.sendControl(ACK);
        if (ans.code !== req.code) {
          this.stale(ans);
          throw fail(`answer for ${hexCode(ans.code)} instead`);
        }
        return this.done(name, ans);
      }
    } catch (err) {
      if (err instanceof PortClosed) throw fail(`port closed (${err.message})`);
      throw err;
    }
  }

  private done(name: string, ans: RawAnswer): RawAnswer {
    this.log?.debug({ port: this.description, cmd: name, error: ans.error }, 'kkt answer');
    return ans;
  }
}
