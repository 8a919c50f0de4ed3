/**
 * Shtrih-M fiscal register driver. The service uses createShtrihRegister (a FiscalRegister)
 * and validateReceiptForDevice at intake; the emulator lives in ./emulator (tests/dev only).
 */
export { createShtrihRegister, type ShtrihRegister, type ShtrihRegisterOptions } from './register';
export { validateReceiptForDevice, assertReceiptForDevice, ReceiptValidationError, OPERATION_TYPE, RECEIPT_TYPE, PAYMENT_SLOT, TAX_SYSTEM_BIT } from './receipt';
export { resolveVatTable, vatTableForModel, vatTableFromJson, VAT_TABLES, SHTRIH_MODELS, type ShtrihModel } from './vat';
export { ERROR_TABLE, errorInfo, errorKind } from './errors';
export { DEFAULT_TIMEOUTS, DEFAULT_RETRIES, type LinkTimeouts, type LinkRetries, type LoggerLike, type RawAnswer } from './link';
export type { TransportSpec, ByteTransport, MemoryDevice } from './transport';
