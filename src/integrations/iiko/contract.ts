/**
 * Wire contract of the iikoServer API ("resto" API) as far as the companion uses it
 * (iiko-wix-allegro.md §1.2–§1.5). Names and shapes are the wire's; everything the companion
 * derives from them (normalised ids, minor units) lives in xml.ts / client.ts.
 *
 * Certainty follows the reference: the paths, `key` parameter, corporateItemDto fields, OLAP v2
 * request shape and SALES field names come from public clients [code]; `Department.Id` as a
 * group-by field, the licence-refusal answer and the token lifetime are [unverified].
 */

/** Every path starts with this (hosted RMS: https://<name>.iiko.it/resto/api, self-hosted: :8080). */
export const IIKO_API_BASE = '/resto/api';

export const IIKO_PATHS = {
  /** GET or POST; `login` + `pass` (lower-case hex SHA-1 of the UTF-8 password) → plain-text token. */
  auth: '/resto/api/auth',
  /** GET or POST; `key=<token>` → frees the licence seat. */
  logout: '/resto/api/logout',
  /** GET; `key=<token>` → XML <corporateItemDtoes>. */
  departments: '/resto/api/corporation/departments',
  /** POST; `key=<token>`, JSON body OlapRequest → JSON OlapResponse. */
  olap: '/resto/api/v2/reports/olap',
} as const;

// ---------------------------------------------------------------------------------------------
// Departments (corporation structure)

/** `type` values listed by pyiiko; servers may send others (kept as given, never rejected). */
export const DEPARTMENT_TYPES = [
  'CORPORATION',
  'JURPERSON',
  'ORGDEVELOPMENT',
  'DEPARTMENT',
  'MANUFACTURE',
  'CENTRALSTORE',
  'CENTRALOFFICE',
  'SALEPOINT',
  'STORE',
] as const;
export type DepartmentType = (typeof DEPARTMENT_TYPES)[number];

export function isKnownDepartmentType(t: string): t is DepartmentType {
  return (DEPARTMENT_TYPES as readonly string[]).includes(t);
}

/** The all-zero GUID some servers put in a root's parentId. */
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** Root element and item element of GET /corporation/departments. */
export const DEPARTMENTS_ROOT = 'corporateItemDtoes';
export const DEPARTMENTS_ITEM = 'corporateItemDto';

/**
 * One `<corporateItemDto>` as it is on the wire: every leaf is text; absent elements are
 * undefined; newer servers add elements (ignored). The tax id of a JURPERSON may sit in the
 * nested `jurPersonAdditionalPropertiesDto/taxpayerId` instead of the top-level element.
 */
export interface CorporateItemDtoWire {
  id: string;
  parentId?: string;
  code?: string;
  name: string;
  type: DepartmentType | string;
  taxpayerIdNumber?: string;
  jurPersonAdditionalPropertiesDto?: { taxpayerId?: string };
}

// ---------------------------------------------------------------------------------------------
// OLAP v2

export type OlapReportType = 'SALES' | 'TRANSACTIONS' | 'DELIVERIES';

/**
 * `from`/`to` are `yyyy-MM-dd` or `yyyy-MM-ddTHH:mm:ss.SSS`. `[day, day+1)` (includeLow true,
 * includeHigh false) is exactly one accounting day.
 */
export interface OlapDateRangeFilter {
  filterType: 'DateRange';
  periodType: 'CUSTOM' | string;
  from: string;
  to: string;
  includeLow?: boolean;
  includeHigh?: boolean;
}

export interface OlapValuesFilter {
  filterType: 'IncludeValues' | 'ExcludeValues';
  values: string[];
}

export type OlapFilter = OlapDateRangeFilter | OlapValuesFilter;

export interface OlapRequest {
  reportType: OlapReportType;
  /** Clients send both the boolean and the string. */
  buildSummary?: boolean | 'true' | 'false';
  groupByRowFields: string[];
  groupByColFields?: string[];
  aggregateFields: string[];
  filters?: Record<string, OlapFilter>;
}

export type OlapValue = string | number | null;

/** Each row's keys are exactly the requested group-by and aggregate field names. */
export interface OlapResponse {
  data: Array<Record<string, OlapValue>>;
  summary: unknown[];
}

/** SALES group-by fields the companion (and the simulator) use. */
export const SALES_GROUP_FIELDS = [
  'OpenDate.Typed',
  'Department',
  /** [unverified] that every server build offers it; the companion keys sales by department GUID. */
  'Department.Id',
  'Department.Code',
  'DishId',
  'DishName',
  'DishCode',
] as const;
export type SalesGroupField = (typeof SALES_GROUP_FIELDS)[number];

/** SALES measures: quantity, amount before discount, amount after discount (roubles, kopecks as decimals). */
export const SALES_AGGREGATE_FIELDS = ['DishAmountInt', 'DishSumInt', 'DishDiscountSumInt'] as const;
export type SalesAggregateField = (typeof SALES_AGGREGATE_FIELDS)[number];

/** The date dimension of SALES (the accounting day, not the calendar day). */
export const SALES_DATE_FIELD = 'OpenDate.Typed';

/**
 * Filters commonly sent to leave out deleted orders / written-off lines [unverified names; the
 * simulator accepts them and has no deleted lines].
 */
export const NOT_DELETED_FILTERS: Record<'DeletedWithWriteoff' | 'OrderDeleted', OlapValuesFilter> = {
  DeletedWithWriteoff: { filterType: 'IncludeValues', values: ['NOT_DELETED'] },
  OrderDeleted: { filterType: 'IncludeValues', values: ['NOT_DELETED'] },
};
