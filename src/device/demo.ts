/**
 * The demo's cash register: the Shtrih-M emulator inside the middleware process, reached
 * through the real driver over an in-memory byte stream (no serial port, no socat), so a new
 * user can queue receipts and watch them fiscalised. KKT_PORT / KKT_TCP always win.
 *
 * The emulator continues the seeded history: shift 42 open, the FN's last document right after
 * the seeded fiscalised receipts.
 */
import type { AppConfig } from '../config';
import type { Logger } from '../logger';
import { openConfiguredRegister } from './open-register';
import type { FiscalRegister } from './register';
import { ShtrihEmulator } from './shtrih/emulator';

export const DEMO_FN_SERIAL = '9999078900012345';

export function demoRegister(config: AppConfig, logger: Logger): { register: FiscalRegister; emulator: ShtrihEmulator } | null {
  if (config.kkt.transport) return null;
  const emulator = new ShtrihEmulator({
    model: config.kkt.model,
    vatCodes: config.kkt.vatCodes,
    fnSerial: DEMO_FN_SERIAL,
    lastFiscalDocumentNumber: 1_030,
    shiftNumber: 42,
    shiftOpen: true,
    // A receipt printer takes a moment per receipt; the demo shows the queue moving.
    timing: { closeMs: config.kkt.demoPrintMs, itemMs: Math.round(config.kkt.demoPrintMs / 10) },
  });
  const register = openConfiguredRegister(config.kkt, logger, { kind: 'memory', device: emulator })!;
  return { register, emulator };
}
