/**
 * Test rigs: the Shtrih driver talking to the emulator either over a real pseudo-terminal
 * pair (socat; the emulator on one end through serialport, the driver on the other) or over
 * the in-memory transport. Timeouts are scaled down so failure paths run in milliseconds.
 */
import { openPtyPair, type PtyPair } from '../../src/device/pty';
import { ShtrihEmulator, attachEmulatorToSerial, type EmulatorOptions, type SerialAttachment } from '../../src/device/shtrih/emulator';
import { createShtrihRegister, type ShtrihRegister, type ShtrihRegisterOptions } from '../../src/device/shtrih';
import type { ReceiptToPrint } from '../../src/device/register';

export type RigKind = 'pty' | 'memory';

export const FAST_TIMEOUTS = {
  controlMs: 80,
  byteMs: 60,
  commandMs: 400,
  xReportMs: 600,
  zReportMs: 600,
  openShiftMs: 600,
  busyPollMs: 5,
  busyMaxMs: 3000,
};
export const FAST_RETRIES = { enq: 4, frame: 5, read: 5 };

export interface Rig {
  kind: RigKind;
  emu: ShtrihEmulator;
  reg: ShtrihRegister;
  pair?: PtyPair;
  attachment?: SerialAttachment;
  /** pty only: stop socat (the cable is pulled). */
  pull(): Promise<void>;
  /** pty only: a new socat pair on the same paths, emulator attached again. */
  replug(): Promise<void>;
  close(): Promise<void>;
}

export async function makeRig(kind: RigKind, emuOptions: EmulatorOptions = {}, regOptions: Partial<ShtrihRegisterOptions> = {}): Promise<Rig> {
  const emu = new ShtrihEmulator({ shiftOpen: true, byteTimeoutMs: 50, ...emuOptions });
  let pair: PtyPair | undefined;
  let attachment: SerialAttachment | undefined;
  if (kind === 'pty') {
    pair = await openPtyPair();
    attachment = await attachEmulatorToSerial(emu, pair.devicePath, 115200);
  }
  const dir = pair?.dir;
  const reg = createShtrihRegister({
    transport: kind === 'pty' ? { kind: 'serial', path: pair!.hostPath, baudRate: 115200 } : { kind: 'memory', device: emu },
    timeouts: FAST_TIMEOUTS,
    retries: FAST_RETRIES,
    ...regOptions,
  });
  const rig: Rig = {
    kind,
    emu,
    reg,
    pair,
    attachment,
    async pull() {
      await rig.attachment?.close();
      await rig.pair?.close();
    },
    async replug() {
      rig.pair = await openPtyPair({ dir });
      rig.attachment = await attachEmulatorToSerial(emu, rig.pair.devicePath, 115200);
    },
    async close() {
      await reg.close().catch(() => undefined);
      await rig.attachment?.close().catch(() => undefined);
      await rig.pair?.close().catch(() => undefined);
    },
  };
  return rig;
}

export function sale(overrides: Partial<ReceiptToPrint> = {}): ReceiptToPrint {
  return {
    operation: 'sale',
    taxSystem: 'usn_income',
    items: [
      { name: 'Хлеб', priceMinor: 5990, quantityMicro: 1_000_000, amountMinor: 5990, vat: 'none', paymentMethod: 4, paymentSubject: 1 },
      { name: 'Молоко 3,2%', priceMinor: 8950, quantityMicro: 2_000_000, amountMinor: 17900, vat: 'vat10', paymentMethod: 4, paymentSubject: 1 },
    ],
    payments: [{ type: 'cash', amountMinor: 25000 }],
    totalMinor: 23890,
    customerContact: 'a@b.ru',
    cashierName: 'Иванова А.',
    ...overrides,
  };
}

export async function rejection<T>(p: Promise<T>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

/** Lets bytes in flight (the host's final ACK, say) reach the other side. */
export const settle = (ms = 20) => new Promise((r) => setTimeout(r, ms));
