/**
 * GraphQL object types. Field resolvers for relations load through the request's DataLoaders
 * (one statement per level); plain fields map 1:1 to the service/model objects.
 */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { SYNC_STATUSES } from '../models';
import { RECEIPT_STATUSES } from '../services/receipts';
import { connectionOf } from './connection';
import { CountersScalar, DateScalar, DateTimeScalar } from './scalars';

export enum SortDirection {
  ASC = 'asc',
  DESC = 'desc',
}
registerEnumType(SortDirection, { name: 'SortDirection' });

export enum SyncRunStatus {
  QUEUED = 'queued',
  RUNNING = 'running',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
  INTERRUPTED = 'interrupted',
}
registerEnumType(SyncRunStatus, { name: 'SyncRunStatus' });
// Keep the enum and the model's list in step (a compile-time check would need a const enum).
if (Object.values(SyncRunStatus).length !== SYNC_STATUSES.length) throw new Error('SyncRunStatus out of step');

@ObjectType({ description: 'A Logikal directory (folder of projects), keyed by its path' })
export class Directory {
  @Field(() => ID) id!: number;
  @Field(() => String) path!: string;
  @Field(() => String) name!: string;
  @Field(() => Int) level!: number;
  parentId!: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) syncedAt!: string | null;
}

@ObjectType({ description: 'A Logikal project' })
export class Project {
  @Field(() => ID) id!: number;
  @Field(() => String, { description: 'Logikal GUID, lower case' }) guid!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) jobNumber!: string | null;
  @Field(() => String, { nullable: true }) offerNumber!: string | null;
  @Field(() => String, { nullable: true }) personInCharge!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) createdDate!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) changedDate!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) syncedAt!: string | null;
  @Field(() => DateTimeScalar) createdAt!: string;
  @Field(() => DateTimeScalar) updatedAt!: string;
  directoryId!: number | null;
}

@ObjectType({ description: 'A phase of a project; the null-GUID phase is Logikal’s default phase' })
export class Phase {
  @Field(() => ID) id!: number;
  @Field(() => String) logikalId!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) syncedAt!: string | null;
  projectId!: number;
}

@ObjectType({ description: 'A glass build-up of an elevation (from its parts list)' })
export class ElevationGlass {
  @Field(() => ID) id!: number;
  @Field(() => String) glassId!: string;
  @Field(() => String, { nullable: true }) name!: string | null;
}

@ObjectType({ description: 'An article or profile line of an elevation’s parts list' })
export class ElevationPart {
  @Field(() => ID) id!: number;
  @Field(() => String, { description: 'article | profile' }) kind!: string;
  @Field(() => String) articleCode!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => String, { nullable: true }) color!: string | null;
  @Field(() => Float, { nullable: true }) amount!: number | null;
  @Field(() => Float, { nullable: true, description: 'Profile length as the parts list states it' }) length!: number | null;
  @Field(() => Int, { nullable: true, description: 'Price in minor units (cents)' }) priceMinor!: number | null;
}

@ObjectType({ description: 'An elevation (window, door or facade element) of a phase' })
export class Elevation {
  @Field(() => ID) id!: number;
  @Field(() => String) guid!: string;
  @Field(() => String, { nullable: true }) versionId!: string | null;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => String, { nullable: true }) description2!: string | null;
  @Field(() => Float, { nullable: true }) width!: number | null;
  @Field(() => Float, { nullable: true }) height!: number | null;
  @Field(() => Int, { nullable: true }) amount!: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) changedDate!: string | null;
  @Field(() => String, { nullable: true }) autoDescription!: string | null;
  @Field(() => String, { nullable: true }) autoDescriptionShort!: string | null;
  @Field(() => Float, { nullable: true }) widthOut!: number | null;
  @Field(() => String, { nullable: true }) widthUnit!: string | null;
  @Field(() => Float, { nullable: true }) heightOut!: number | null;
  @Field(() => String, { nullable: true }) heightUnit!: string | null;
  @Field(() => Float, { nullable: true }) weightOut!: number | null;
  @Field(() => String, { nullable: true }) weightUnit!: string | null;
  @Field(() => Float, { nullable: true }) areaOutput!: number | null;
  @Field(() => String, { nullable: true }) areaUnit!: string | null;
  @Field(() => String, { nullable: true }) systemCode!: string | null;
  @Field(() => String, { nullable: true }) systemName!: string | null;
  @Field(() => String, { nullable: true }) systemLongName!: string | null;
  @Field(() => String, { nullable: true }) colorBaseLong!: string | null;
  @Field(() => String, { nullable: true, description: 'SHA-256 of the last parts-list file' }) partsFileHash!: string | null;
  @Field(() => String, { description: 'pending | success | failed' }) parseStatus!: string;
  @Field(() => String, { nullable: true }) parseError!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) parsedAt!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) syncedAt!: string | null;
  phaseId!: number;
}

@ObjectType({ description: 'An iiko department (corporation, legal entity, department, store, sale point…)' })
export class Department {
  @Field(() => ID) id!: number;
  @Field(() => String, { description: 'iiko UUID, lower case' }) guid!: string;
  @Field(() => String, { description: 'Name of the configured iiko server it came from' }) sourceServer!: string;
  @Field(() => String, { nullable: true }) code!: string | null;
  @Field(() => String) name!: string;
  @Field(() => String) type!: string;
  @Field(() => String, { nullable: true }) taxpayerId!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Set when the department disappeared upstream' })
  removedAt!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) syncedAt!: string | null;
  parentId!: number | null;
}

@ObjectType({ description: 'A node of the department tree, flattened in depth-first order' })
export class DepartmentTreeNode {
  @Field(() => ID) id!: number;
  @Field(() => ID, { nullable: true }) parentId!: number | null;
  @Field(() => Int) depth!: number;
  @Field(() => String) name!: string;
  @Field(() => String) type!: string;
  @Field(() => String, { nullable: true }) code!: string | null;
  @Field(() => String) sourceServer!: string;
}

@ObjectType({ description: 'Sales of one day (per department, and per product when asked)' })
export class DailySales {
  @Field(() => DateScalar) date!: string;
  @Field(() => ID) departmentId!: number;
  @Field(() => String, { nullable: true }) productCode!: string | null;
  @Field(() => Float) quantity!: number;
  @Field(() => Float, { description: 'Amount in minor units' }) amountMinor!: number;
}

@ObjectType()
export class StockLevel {
  @Field(() => String) location!: string;
  @Field(() => Float) quantity!: number;
  @Field(() => DateTimeScalar) updatedAt!: string;
}

@ObjectType({ description: 'Where a product lives on a marketplace' })
export class MarketplaceMapping {
  @Field(() => String, { description: 'wix | allegro' }) marketplace!: string;
  @Field(() => String, { nullable: true }) externalProductId!: string | null;
  @Field(() => String, { nullable: true }) externalVariantId!: string | null;
  @Field(() => String, { nullable: true }) externalInventoryId!: string | null;
  @Field(() => String, { nullable: true }) externalOfferId!: string | null;
}

@ObjectType()
export class Product {
  @Field(() => ID) id!: number;
  @Field(() => String) sku!: string;
  @Field(() => String) name!: string;
  @Field(() => [String]) eanCodes!: string[];
  @Field(() => DateTimeScalar) updatedAt!: string;
}

export enum ReceiptStatus {
  QUEUED = 'queued',
  PRINTING = 'printing',
  FISCALISED = 'fiscalised',
  DEAD = 'dead',
  CANCELLED = 'cancelled',
}
registerEnumType(ReceiptStatus, {
  name: 'ReceiptStatus',
  description: 'queued → printing → fiscalised; dead = refused or ambiguous, waits for an operator (retry or cancel)',
  valuesConfig: {
    PRINTING: { description: 'Being printed, or the outcome is being reconciled with the register' },
    DEAD: { description: 'Dead letter: the register refused it or reconciliation was ambiguous; retryReceipt or cancelReceipt' },
  },
});
if (Object.values(ReceiptStatus).length !== RECEIPT_STATUSES.length) throw new Error('ReceiptStatus out of step');

@ObjectType()
export class ReceiptItem {
  @Field(() => String) name!: string;
  @Field(() => GraphQLSafeInt, { description: 'Unit price in minor units (kopecks)' }) priceMinor!: number;
  @Field(() => Float) quantity!: number;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'price × quantity rounded half-up, kopecks' }) amountMinor?: number | null;
  @Field(() => String, { description: 'VAT rate: vat22, vat10, vat0, none, vat22_122, …' }) vat!: string;
  @Field(() => String, { description: 'Tag 1214: full_payment, full_prepayment, prepayment, advance, …' }) paymentMethod!: string;
  @Field(() => String, { description: 'Tag 1212: commodity, service, job, …' }) paymentSubject!: string;
  @Field(() => String, { nullable: true, description: 'Tag 2108 (FFD 1.2): piece, kilogram, liter, …' }) unit?: string | null;
}

@ObjectType()
export class ReceiptPayment {
  @Field(() => String, { description: 'cash | electronic | prepaid | credit | counter_provision' }) type!: string;
  @Field(() => GraphQLSafeInt) amountMinor!: number;
}

@ObjectType({ description: 'One try at printing a receipt on the register' })
export class ReceiptAttempt {
  @Field(() => ID) id!: number;
  @Field(() => DateTimeScalar) startedAt!: string;
  @Field(() => DateTimeScalar, { nullable: true }) finishedAt!: string | null;
  @Field(() => String, { description: 'printing | ok | device_error | transport_error | reconciled | not_printed | ambiguous' })
  outcome!: string;
  @Field(() => Int, { nullable: true }) deviceErrorCode!: number | null;
  @Field(() => String, { nullable: true }) deviceErrorText!: string | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'The fiscal document number this attempt expected' })
  expectedFiscalDocumentNumber!: number | null;
}

@ObjectType({ description: 'A fiscal receipt (54-FZ) queued for or printed on the cash register' })
export class Receipt {
  @Field(() => ID) id!: number;
  @Field(() => String, { description: 'The caller’s idempotency key' }) clientUuid!: string;
  @Field(() => ReceiptStatus) status!: string;
  @Field(() => String, { description: 'sale | sale_return | purchase | purchase_return' }) operation!: string;
  @Field(() => String, { nullable: true, description: 'osn | usn_income | usn_income_outcome | eshn | patent' }) taxSystem!: string | null;
  @Field(() => [ReceiptItem]) items!: ReceiptItem[];
  @Field(() => [ReceiptPayment]) payments!: ReceiptPayment[];
  @Field(() => GraphQLSafeInt) totalMinor!: number;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Change given from cash' }) changeMinor!: number | null;
  @Field(() => String, { nullable: true }) customerContact!: string | null;
  @Field(() => String, { nullable: true }) cashierName!: string | null;
  @Field(() => GraphQLSafeInt, { nullable: true }) fiscalDocumentNumber!: number | null;
  @Field(() => String, { nullable: true }) fiscalSign!: string | null;
  @Field(() => String, { nullable: true, description: 'Serial number of the FN that holds the document' }) fnSerial!: string | null;
  @Field(() => Int, { nullable: true }) shiftNumber!: number | null;
  @Field(() => Int, { nullable: true, description: 'Receipt number within the shift' }) receiptNumber!: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) fiscalisedAt!: string | null;
  @Field(() => Int) attemptCount!: number;
  @Field(() => String, { nullable: true }) lastError!: string | null;
  @Field(() => Int, { nullable: true, description: 'The register’s error code of the last failure' }) lastErrorCode!: number | null;
  @Field(() => DateTimeScalar) createdAt!: string;
  @Field(() => DateTimeScalar) updatedAt!: string;
}

@ObjectType({ description: 'A trained forecasting model' })
export class ModelVersion {
  @Field(() => ID) id!: number;
  @Field(() => String) name!: string;
  @Field(() => String) version!: string;
  @Field(() => String) algorithm!: string;
  @Field(() => CountersScalar, { nullable: true, description: 'Accuracy metrics, e.g. {"wape": 0.21}' })
  metrics!: Record<string, number> | null;
  @Field(() => DateTimeScalar) trainedAt!: string;
}

@ObjectType({ description: 'A sales forecast for one day with its 10/50/90 % quantiles' })
export class Forecast {
  @Field(() => ID) id!: number;
  @Field(() => String, { nullable: true, description: 'null: the department total' }) productCode!: string | null;
  @Field(() => DateScalar) date!: string;
  @Field(() => Float) p10!: number;
  @Field(() => Float) p50!: number;
  @Field(() => Float) p90!: number;
  departmentId!: number;
  modelVersionId!: number;
}

@ObjectType({ description: 'One progress event of a sync run' })
export class SyncEvent {
  @Field(() => Int) seq!: number;
  @Field(() => String) step!: string;
  @Field(() => String, { nullable: true }) message!: string | null;
  @Field(() => Int, { nullable: true }) done!: number | null;
  @Field(() => Int, { nullable: true }) total!: number | null;
  @Field(() => CountersScalar, { nullable: true }) counters!: Record<string, number> | null;
  @Field(() => DateTimeScalar) at!: string;
}

@ObjectType({ description: 'A run of a long job (sync, import) with its live state' })
export class SyncRun {
  @Field(() => ID) id!: number;
  @Field(() => String, { description: 'e.g. logikal.project, iiko.departments' }) kind!: string;
  @Field(() => String) target!: string;
  @Field(() => SyncRunStatus) status!: SyncRunStatus;
  @Field(() => CountersScalar) counters!: Record<string, number>;
  @Field(() => Int) done!: number;
  @Field(() => Int, { nullable: true }) total!: number | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => String, { nullable: true }) lastStep!: string | null;
  @Field(() => DateTimeScalar) queuedAt!: string;
  @Field(() => DateTimeScalar, { nullable: true }) startedAt!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) finishedAt!: string | null;
  @Field(() => DateTimeScalar) updatedAt!: string;
  @Field(() => Int, { nullable: true }) durationMs!: number | null;
}

@ObjectType({ description: 'An API client (its key is shown only when created)' })
export class ApiClient {
  @Field(() => ID) id!: number;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'Public part of the key (oc_<prefix>_…)' }) keyPrefix!: string;
  @Field(() => [String]) scopes!: string[];
  @Field(() => DateTimeScalar) createdAt!: string;
  @Field(() => DateTimeScalar, { nullable: true }) lastUsedAt!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) revokedAt!: string | null;
}

@ObjectType()
export class CreatedApiKey {
  @Field(() => ApiClient) client!: ApiClient;
  @Field(() => String, { description: 'The full key. Shown once: store it now.' }) key!: string;
}

export const ProjectConnection = connectionOf(Project, 'Project');
export const ElevationConnection = connectionOf(Elevation, 'Elevation');
export const DepartmentConnection = connectionOf(Department, 'Department');
export const ProductConnection = connectionOf(Product, 'Product');
export const ReceiptConnection = connectionOf(Receipt, 'Receipt');
export const ForecastConnection = connectionOf(Forecast, 'Forecast');
export const SyncRunConnection = connectionOf(SyncRun, 'SyncRun');


@ObjectType({ description: 'One step of a sync run’s progress (the last one carries the final status)' })
export class SyncProgressEvent {
  @Field(() => ID) runId!: number;
  @Field(() => Int, { description: 'Position in the run’s event log, from 1' }) seq!: number;
  @Field(() => String, { description: 'The step, named by the job (e.g. login, phases, parts-list for Logikal; server, day for iiko), or the final status on the last event' }) step!: string;
  @Field(() => String, { nullable: true, description: 'What the step is about, e.g. the elevation name' }) message!: string | null;
  @Field(() => Int, { nullable: true }) done!: number | null;
  @Field(() => Int, { nullable: true }) total!: number | null;
  @Field(() => CountersScalar, { description: 'The run’s counters after this step' }) counters!: Record<string, number>;
  @Field(() => SyncRunStatus) status!: SyncRunStatus;
  @Field(() => DateTimeScalar) at!: string;
}
