/**
 * Objection models, one per table (columns in camelCase; knex maps them to snake_case).
 * Field comments live in the migration; these classes carry types and JSON handling.
 */
import { BaseModel } from './base';

export class Directory extends BaseModel {
  static override tableName = 'directories';
  static override timestampColumns = ['syncedAt', 'createdAt', 'updatedAt'];
  static override booleanColumns = ['excludeFromSync'];
  id!: number;
  path!: string;
  name!: string;
  parentId!: number | null;
  level!: number;
  excludeFromSync!: boolean;
  syncedAt!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export class Project extends BaseModel {
  static override tableName = 'projects';
  static override timestampColumns = ['createdDate', 'changedDate', 'syncedAt', 'createdAt', 'updatedAt'];
  id!: number;
  guid!: string;
  directoryId!: number | null;
  name!: string;
  jobNumber!: string | null;
  offerNumber!: string | null;
  personInCharge!: string | null;
  createdDate!: string | null;
  changedDate!: string | null;
  syncedAt!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export class Phase extends BaseModel {
  static override tableName = 'phases';
  static override timestampColumns = ['syncedAt', 'createdAt', 'updatedAt'];
  id!: number;
  projectId!: number;
  logikalId!: string;
  name!: string;
  description!: string | null;
  syncedAt!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export class Elevation extends BaseModel {
  static override tableName = 'elevations';
  static override timestampColumns = ['changedDate', 'parsedAt', 'syncedAt', 'createdAt', 'updatedAt'];
  /**
   * Every column but the thumbnail: lists and relations select these, so a page of
   * elevations does not drag a PNG per row through the database driver.
   */
  static readonly listColumns = ['id', 'guid', 'phaseId', 'versionId', 'name', 'description', 'description2', 'width', 'height', 'amount', 'changedDate', 'autoDescription', 'autoDescriptionShort', 'widthOut', 'widthUnit', 'heightOut', 'heightUnit', 'weightOut', 'weightUnit', 'areaOutput', 'areaUnit', 'systemCode', 'systemName', 'systemLongName', 'colorBaseLong', 'thumbnailMime', 'partsFileHash', 'partsFileSize', 'parseStatus', 'parseError', 'parsedAt', 'syncedAt', 'createdAt', 'updatedAt'];
  id!: number;
  guid!: string;
  phaseId!: number;
  versionId!: string | null;
  name!: string;
  description!: string | null;
  description2!: string | null;
  width!: number | null;
  height!: number | null;
  amount!: number | null;
  changedDate!: string | null;
  autoDescription!: string | null;
  autoDescriptionShort!: string | null;
  widthOut!: number | null;
  widthUnit!: string | null;
  heightOut!: number | null;
  heightUnit!: string | null;
  weightOut!: number | null;
  weightUnit!: string | null;
  areaOutput!: number | null;
  areaUnit!: string | null;
  systemCode!: string | null;
  systemName!: string | null;
  systemLongName!: string | null;
  colorBaseLong!: string | null;
  thumbnail!: Buffer | null;
  thumbnailMime!: string | null;
  partsFileHash!: string | null;
  partsFileSize!: number | null;
  parseStatus!: string;
  parseError!: string | null;
  parsedAt!: string | null;
  syncedAt!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export class ElevationGlass extends BaseModel {
  static override tableName = 'elevation_glass';
  id!: number;
  elevationId!: number;
  glassId!: string;
  name!: string | null;
}

export class ElevationPart extends BaseModel {
  static override tableName = 'elevation_parts';
  id!: number;
  elevationId!: number;
  kind!: 'article' | 'profile';
  articleCode!: string;
  description!: string | null;
  color!: string | null;
  amount!: number | null;
  length!: number | null;
  priceMinor!: number | null;
}

export class Department extends BaseModel {
  static override tableName = 'departments';
  static override timestampColumns = ['removedAt', 'syncedAt', 'createdAt', 'updatedAt'];
  id!: number;
  guid!: string;
  sourceServer!: string;
  parentId!: number | null;
  parentGuid!: string | null;
  code!: string | null;
  name!: string;
  type!: string;
  taxpayerId!: string | null;
  removedAt!: string | null;
  syncedAt!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export class DailySale extends BaseModel {
  static override tableName = 'daily_sales';
  static override timestampColumns = ['importedAt'];
  id!: number;
  departmentId!: number;
  productCode!: string;
  productName!: string | null;
  date!: string;
  quantity!: number;
  amountMinor!: number;
  importedAt!: string;
}

export class Product extends BaseModel {
  static override tableName = 'products';
  static override timestampColumns = ['createdAt', 'updatedAt'];
  static override jsonAttributes = ['eanCodes'];
  id!: number;
  sku!: string;
  name!: string;
  eanCodes!: string[];
  createdAt!: string;
  updatedAt!: string;
}

export class StockLevel extends BaseModel {
  static override tableName = 'stock_levels';
  static override timestampColumns = ['updatedAt'];
  id!: number;
  productId!: number;
  location!: string;
  quantity!: number;
  updatedAt!: string;
}

export class MarketplaceMapping extends BaseModel {
  static override tableName = 'marketplace_mappings';
  static override timestampColumns = ['createdAt', 'updatedAt'];
  id!: number;
  productId!: number;
  marketplace!: 'wix' | 'allegro';
  externalProductId!: string | null;
  externalVariantId!: string | null;
  externalInventoryId!: string | null;
  externalOfferId!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export interface ReceiptItem {
  name: string;
  priceMinor: number;
  quantity: number;
  /** price × quantity, rounded half-up to kopecks (absent on rows seeded before issue 5). */
  amountMinor?: number;
  vat: string;
  paymentMethod: string;
  paymentSubject: string;
  unit?: string | null;
  department?: number | null;
}
export interface ReceiptPayment {
  type: 'cash' | 'electronic' | 'prepaid' | 'credit' | 'counter_provision';
  amountMinor: number;
}

export class Receipt extends BaseModel {
  static override tableName = 'receipts';
  static override timestampColumns = ['fiscalisedAt', 'nextAttemptAt', 'createdAt', 'updatedAt'];
  static override jsonAttributes = ['items', 'payments', 'printPayload'];
  id!: number;
  clientUuid!: string;
  status!: string;
  operation!: string;
  taxSystem!: string | null;
  items!: ReceiptItem[];
  payments!: ReceiptPayment[];
  totalMinor!: number;
  customerContact!: string | null;
  expectedFiscalDocumentNumber!: number | null;
  fiscalDocumentNumber!: number | null;
  fiscalSign!: string | null;
  shiftNumber!: number | null;
  fiscalisedAt!: string | null;
  attemptCount!: number;
  lastError!: string | null;
  lastErrorCode!: number | null;
  fnSerial!: string | null;
  receiptNumber!: number | null;
  changeMinor!: number | null;
  cashierName!: string | null;
  nextAttemptAt!: string | null;
  /** The receipt as sent to the register (src/device/register.ts ReceiptToPrint). */
  printPayload!: unknown;
  createdAt!: string;
  updatedAt!: string;
}

export class ReceiptAttempt extends BaseModel {
  static override tableName = 'receipt_attempts';
  static override timestampColumns = ['startedAt', 'finishedAt'];
  id!: number;
  receiptId!: number;
  startedAt!: string;
  finishedAt!: string | null;
  outcome!: string;
  deviceErrorCode!: number | null;
  deviceErrorText!: string | null;
  expectedFiscalDocumentNumber!: number | null;
}

export class ModelVersion extends BaseModel {
  static override tableName = 'model_versions';
  static override timestampColumns = ['trainedAt', 'createdAt'];
  static override jsonAttributes = ['metrics'];
  id!: number;
  name!: string;
  version!: string;
  algorithm!: string;
  metrics!: Record<string, number> | null;
  trainedAt!: string;
  createdAt!: string;
}

export class Forecast extends BaseModel {
  static override tableName = 'forecasts';
  static override timestampColumns = ['createdAt'];
  id!: number;
  departmentId!: number;
  productCode!: string | null;
  date!: string;
  p10!: number;
  p50!: number;
  p90!: number;
  modelVersionId!: number;
  createdAt!: string;
}

export type SyncStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export const SYNC_STATUSES: readonly SyncStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];
export const FINISHED_SYNC_STATUSES: readonly SyncStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

export class SyncRun extends BaseModel {
  static override tableName = 'sync_runs';
  static override timestampColumns = ['queuedAt', 'startedAt', 'finishedAt', 'updatedAt'];
  static override jsonAttributes = ['counters'];
  id!: number;
  kind!: string;
  target!: string;
  status!: SyncStatus;
  counters!: Record<string, number>;
  done!: number;
  total!: number | null;
  lastStep!: string | null;
  error!: string | null;
  queuedAt!: string;
  startedAt!: string | null;
  finishedAt!: string | null;
  updatedAt!: string;
}

export class SyncEvent extends BaseModel {
  static override tableName = 'sync_events';
  static override timestampColumns = ['at'];
  static override jsonAttributes = ['counters'];
  id!: number;
  runId!: number;
  seq!: number;
  step!: string;
  message!: string | null;
  done!: number | null;
  total!: number | null;
  counters!: Record<string, number> | null;
  at!: string;
}

export class ApiClient extends BaseModel {
  static override tableName = 'api_clients';
  static override timestampColumns = ['createdAt', 'lastUsedAt', 'revokedAt'];
  static override jsonAttributes = ['scopes'];
  id!: number;
  name!: string;
  keyPrefix!: string;
  keyHash!: string;
  scopes!: string[];
  createdAt!: string;
  lastUsedAt!: string | null;
  revokedAt!: string | null;
}
