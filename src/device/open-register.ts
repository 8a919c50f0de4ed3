/**
 * Builds the configured fiscal register (KKT_PORT / KKT_TCP) and the intake check of its
 * limits. Shtrih-M is the only protocol so far; another one would be chosen here by config.
 */
import type { KktConfig } from '../config';
import type { FieldProblem } from '../errors';
import type { Logger } from '../logger';
import type { FiscalRegister, ReceiptToPrint } from './register';
import { validateReceiptForDevice } from './shtrih/receipt';
import { createShtrihRegister } from './shtrih/register';
import type { TransportSpec } from './shtrih/transport';

/** What the configured register would refuse in a receipt (names, sizes, VAT table). */
export function registerInputCheck(config: KktConfig): (r: ReceiptToPrint) => FieldProblem[] {
  return (r) => validateReceiptForDevice(r, config.vatCodes);
}

/** The register on KKT_PORT / KKT_TCP, or on a given transport (the demo's emulator); null when neither. */
export function openConfiguredRegister(config: KktConfig, logger: Logger, transport?: TransportSpec): FiscalRegister | null {
  const spec: TransportSpec | null = transport ?? config.transport;
  if (!spec) return null;
  return createShtrihRegister({
    transport: spec,
    password: config.password,
    model: config.model,
    vatCodes: config.vatCodes,
    ffd: config.ffd,
    timeouts: { scale: config.timeoutScale },
    logger: logger.child({ component: 'kkt' }),
  });
}
