/**
 * Operator use-cases of the fiscal register: its status with the queue, closing the shift,
 * the X report. They go through the printer worker, which runs them between receipts (one
 * command in flight per port).
 */
import { AppError } from '../errors';
import type { RegisterStatusView } from '../jobs/receipt-printer';
import type { ServiceContext } from './context';
import { receiptCounts } from './receipts';

export type CashRegisterView = Omit<RegisterStatusView, 'registerId' | 'state' | 'breaker' | 'warnings'> & {
  configured: boolean;
  state: RegisterStatusView['state'] | 'not_configured';
  breaker: RegisterStatusView['breaker'] | null;
  warnings: RegisterStatusView['warnings'];
};

export async function registerStatus(ctx: ServiceContext): Promise<CashRegisterView> {
  const kkt = ctx.integrations.kkt;
  if (!kkt) {
    return {
      configured: false, state: 'not_configured', breaker: null, lastError: null, fnSerial: null, shiftNumber: null,
      shiftOpen: null, shiftOpenedAt: null, shiftCloseDueAt: null, lastFiscalDocumentNumber: null, warnings: null,
      queue: await receiptCounts(ctx),
    };
  }
  const { registerId: _r, ...rest } = await kkt.status();
  return { configured: true, ...rest };
}

function requireRegister(ctx: ServiceContext) {
  const kkt = ctx.integrations.kkt;
  if (!kkt) throw new AppError('UNAVAILABLE', 'No cash register is configured (KKT_PORT or KKT_TCP; see docs/receipts.md)');
  return kkt;
}

export function closeShift(ctx: ServiceContext): Promise<{ shiftNumber: number; fiscalDocumentNumber: number }> {
  return requireRegister(ctx).closeShift();
}

export async function xReport(ctx: ServiceContext): Promise<{ ok: true }> {
  await requireRegister(ctx).xReport();
  return { ok: true };
}
