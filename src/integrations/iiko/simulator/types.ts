/** Public option, data and report types of the iiko simulator (re-exported by ../simulator). */
import type { RawDepartment } from '../xml';

export type IikoSimOperation = 'auth' | 'logout' | 'departments' | 'olap';

/** Simulated server time per operation, in milliseconds (before `latencyScale`). */
export interface IikoLatencyMs {
  auth: number;
  logout: number;
  departments: number;
  /** One OLAP request (the companion asks for one day at a time). */
  olap: number;
}

/**
 * Default timings. [unverified] No measurements of a real iikoServer were available: these are
 * plausible figures for a hosted RMS (auth is cheap; OLAP is the slow part). Tests use
 * latencyScale 0.
 */
export const IIKO_REAL_LATENCY_MS: IikoLatencyMs = Object.freeze({
  auth: 300,
  logout: 60,
  departments: 700,
  olap: 1500,
});

/**
 * One kind of injected fault (same rules as the Logikal simulator's):
 * - `op`: only that operation (default 'any');
 * - `times`: at most this many hits, then the fault stops;
 * - `rate`: probability per matching request, from a PRNG seeded by `IikoFaultPlan.seed`.
 * Neither `times` nor `rate` → every matching request.
 */
export interface IikoFaultSpec {
  op?: IikoSimOperation | 'any';
  rate?: number;
  times?: number;
}

export type HostileXmlKind = 'entity-bomb' | 'external-entity' | 'huge';

export interface IikoFaultPlan {
  /** Answer 500/502/503 without performing the operation (502 as a proxy's HTML page). */
  status5xx?: IikoFaultSpec & { status?: 500 | 502 | 503 };
  /** Never answer: hold the socket until the client gives up (the operation is not performed). */
  timeout?: IikoFaultSpec;
  /** Perform the operation, announce the full Content-Length, send half and cut the connection. */
  truncateBody?: IikoFaultSpec;
  /** GET departments answers a well-sized but malformed document (a closing tag is missing). */
  malformedXml?: boolean;
  /**
   * GET departments answers a hostile document instead of the real list: a billion-laughs
   * entity bomb, an external entity (file:///etc/passwd), or a huge document (chunked, without
   * Content-Length, `hugeXmlBytes` long).
   */
  hostileXml?: HostileXmlKind;
  /** PRNG seed for `rate` (default 1). */
  seed?: number;
}

/** One (day, department, dish) line of sales, as the simulator's OLAP engine aggregates it. */
export interface IikoSimSaleRow {
  /** YYYY-MM-DD, the accounting day (OpenDate.Typed). */
  date: string;
  /** Department GUID (Department.Id). */
  departmentId: string;
  dishId: string;
  dishCode: string;
  dishName: string;
  /** DishAmountInt; fractional for dishes sold by weight. */
  quantity: number;
  /** DishSumInt: roubles with kopecks as decimals. */
  amount: number;
  /** Discount in roubles; DishDiscountSumInt = amount − discount (default 0). */
  discount?: number;
}

export interface SimDish {
  id: string;
  code: string;
  name: string;
  /** Roubles (per kg when `weighed`). */
  price: number;
  weighed: boolean;
  /** Average daily quantity before department, calendar and noise factors. */
  base: number;
}

/**
 * Deterministic sales computed lazily, one day at a time: nothing but the dish list is kept in
 * memory, so a year of 50 departments × 200 dishes costs no memory until a day is asked for.
 */
export interface SalesGenerator {
  readonly kind: 'iiko-sales-generator';
  /** First and last day (inclusive) with sales. */
  readonly from: string;
  readonly to: string;
  readonly departments: readonly string[];
  readonly dishes: readonly SimDish[];
  /** The rows of one day (empty outside [from, to]); the same rows on every call. */
  day(date: string): IikoSimSaleRow[];
  /** The calendar factor of a day (weekday × season × holiday × trend), for tests and charts. */
  factor(date: string, departmentIndex?: number): number;
}

export interface IikoSimData {
  /** In the order the XML lists them. */
  departments: RawDepartment[];
  sales: IikoSimSaleRow[] | SalesGenerator;
}

export interface IikoSimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default 'admin'. */
  login?: string;
  /** Default 'secret'. Clients send its SHA-1 (hex). */
  password?: string;
  /** Licence seats: live tokens allowed at once (default 1). */
  seats?: number;
  /** Token lifetime (default 1 h). */
  tokenTtlMs?: number;
  /**
   * [unverified] whether a real token's lifetime slides with activity. 'sliding' (default):
   * every accepted request renews it; 'fixed': it dies `tokenTtlMs` after login.
   */
  tokenTtlMode?: 'sliding' | 'fixed';
  /** Per-operation override of IIKO_REAL_LATENCY_MS (before scaling). */
  latencyMs?: Partial<IikoLatencyMs>;
  /** Multiplies every latency (default 1; tests use 0). */
  latencyScale?: number;
  faults?: IikoFaultPlan;
  /** Default: generateDepartments({ count: 50 }) and a year of generated sales for its DEPARTMENTs. */
  data?: IikoSimData;
  /** Length of the 'huge' hostile document (default 64 MiB: just over MAX_DEPARTMENTS_XML_BYTES). */
  hugeXmlBytes?: number;
  /** Where a JURPERSON's tax id is written (see DepartmentsXmlOptions; default 'nested'). */
  jurTaxpayer?: 'nested' | 'top' | 'both';
}

export type MutableIikoSimulatorOptions = Pick<
  IikoSimulatorOptions,
  'login' | 'password' | 'seats' | 'tokenTtlMs' | 'tokenTtlMode' | 'latencyMs' | 'latencyScale' | 'hugeXmlBytes' | 'jurTaxpayer'
>;

export interface IikoSimulatorStats {
  /** Tokens alive now (each holds a seat). */
  liveTokens: number;
  peakTokens: number;
  /** Successful logins (tokens issued). */
  logins: number;
  /** Tokens released by logout. */
  logouts: number;
  /** Logins refused for want of a seat. */
  refusedLogins: number;
  /** Logins refused for wrong credentials. */
  badCredentials: number;
  /** Tokens that died of old age (or expireAllTokens()). */
  expiredTokens: number;
  /** Requests per operation ('unknown' for paths outside the contract), faulted ones included. */
  requests: Record<string, number>;
  /** OLAP reports computed (answered 200). */
  olapRequests: number;
  /** Rows in those answers. */
  olapRows: number;
  /** TCP connections accepted (keep-alive reuse shows as connections < requests). */
  connections: number;
  faults: { status5xx: number; timeout: number; truncateBody: number; malformedXml: number; hostileXml: number };
}

export interface IikoSimulator {
  /** http://127.0.0.1:PORT — clients append /resto/api/... */
  url: string;
  stats(): IikoSimulatorStats;
  /** Mutable: tests edit it (or replace it) between calls. */
  data: IikoSimData;
  /** Replaces the fault plan (hit counters restart). */
  setFaults(f: IikoFaultPlan | undefined): void;
  setOptions(o: Partial<MutableIikoSimulatorOptions>): void;
  /** Every live token dies now (its seat is free; it gets 401 from now on). */
  expireAllTokens(): void;
  /** Every token issued so far, oldest first (tests check that none leaks into logs). */
  issuedTokens(): string[];
  close(): Promise<void>;
}
