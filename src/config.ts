/**
 * Configuration is read from the environment once, validated, and passed around as a typed
 * object. Nothing else in the code base reads process.env (see docs/configuration.md and
 * .env.example for every variable).
 */
import path from 'node:path';
import { z } from 'zod';
import type { VatCodeTable } from './device/register';
import { resolveVatTable, type ShtrihModel } from './device/shtrih/vat';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  /** `postgres://…` switches to PostgreSQL; unset means SQLite under DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^(postgres(ql)?|sqlite):\/\//, 'must start with postgres://, postgresql:// or sqlite://')
    .optional(),
  /** PostgreSQL schema to use (tests give each file its own). */
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier').optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  DATA_DIR: z.string().min(1).default('./data'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest accepted request body, in bytes, on /graphql and /jsonrpc. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(8),
  GRAPHQL_MAX_COMPLEXITY: z.coerce.number().int().min(10).default(250_000),
  JSONRPC_MAX_BATCH: z.coerce.number().int().min(1).max(10000).default(100),
  /** /metrics requires an API key with the `read` scope unless this is false. */
  METRICS_REQUIRE_AUTH: bool.default(true),
  /** Seconds a graceful shutdown waits for in-flight requests before closing them. */
  SHUTDOWN_TIMEOUT_S: z.coerce.number().min(0).max(600).default(15),

  // ---- Orgadata Logikal (docs/logikal.md)
  /** Base URL including /api/v3. Unset: force sync is unavailable, except under `serve --demo`,
   *  which starts the built-in simulator. */
  LOGIKAL_URL: z.string().url('must be a URL like https://logikal.example.com/api/v3').optional(),
  LOGIKAL_USERNAME: z.string().min(1).optional(),
  LOGIKAL_PASSWORD: z.string().min(1).optional(),
  /** Sent as `erp` in POST /auth; both known clients send true. */
  LOGIKAL_ERP: bool.default(true),
  /** Parallel API sessions a force sync may hold (licence seats: keep it small until known). */
  LOGIKAL_MAX_SESSIONS: z.coerce.number().int().min(1).max(32).default(2),
  /** May one session select a sibling elevation? auto = try once, then remember. */
  LOGIKAL_SIBLING_SELECT: z.enum(['auto', 'on', 'off']).default('auto'),
  LOGIKAL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  LOGIKAL_PARTS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  LOGIKAL_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  /** Download thumbnails (PNG, 300x300) with the elevation list. */
  LOGIKAL_THUMBNAILS: bool.default(true),
  /** Demo only: the built-in simulator's latency, as a fraction of the real server's. */
  LOGIKAL_DEMO_LATENCY_SCALE: z.coerce.number().min(0).max(10).default(0.2),

  // ---- iiko (iikoServer API): one or more servers, each with IIKO_<NAME>_URL/_LOGIN/_PASSWORD
  /** Comma-separated server names, e.g. `main,second`; they become departments.source_server. */
  IIKO_SERVERS: z.string().optional(),
  IIKO_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** OLAP reports are slow on real servers: one day per request, a generous timeout. */
  IIKO_OLAP_TIMEOUT_MS: z.coerce.number().int().min(100).max(900_000).default(120_000),
  IIKO_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  /** Days before today re-imported by every sales import (late shift closures change them). */
  IIKO_SALES_REPULL_DAYS: z.coerce.number().int().min(0).max(60).default(2),
  /** Demo only: the built-in simulators' latency, as a fraction of a real server's. */
  IIKO_DEMO_LATENCY_SCALE: z.coerce.number().min(0).max(10).default(0.2),

  // ---- Fiscal register (docs/receipts.md): Shtrih-M on a serial port or TCP
  /** Serial device of the register, e.g. /dev/ttyACM0 or /dev/serial/by-id/usb-…; the user needs the dialout group. */
  KKT_PORT: z.string().min(1).optional(),
  /** host:port of a network register (instead of KKT_PORT). */
  KKT_TCP: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 192.168.1.50:7778').optional(),
  KKT_BAUD_RATE: z.coerce.number().int().refine((n) => [2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600].includes(n), 'must be a Shtrih rate: 2400 … 921600').default(115200),
  /** Operator password for every command; FN commands need the system administrator's (30 from the factory). */
  KKT_PASSWORD: z.coerce.number().int().min(0).max(99_999_999).default(30),
  /** Which VAT byte table to use (22 % differs: CBh on Shtrih firmware, 90h on Shtrih-Nano). */
  KKT_MODEL: z.enum(['shtrih', 'shtrih-nano']).default('shtrih'),
  /** JSON overrides of the VAT byte table, e.g. {"vat22":"0xCB","vat7_107":144}; null removes a rate. */
  KKT_VAT_CODES: z.string().optional(),
  /** Fiscal data format registered in the FN: 1.2 sends the unit of measure (tag 2108) per item. */
  KKT_FFD: z.enum(['1.05', '1.2']).default('1.2'),
  /** The worker closes the shift (Z report) once it has been open this long; the law allows 24 h. */
  KKT_SHIFT_CLOSE_AFTER_H: z.coerce.number().min(0.0001).max(24).default(23.5),
  /** Link failures in a row before the breaker stops trying for KKT_BREAKER_OPEN_MS (doubling up to a minute). */
  KKT_BREAKER_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
  KKT_BREAKER_OPEN_MS: z.coerce.number().int().min(10).max(600_000).default(5_000),
  /** Wait after the register asked for an operator (paper out) before asking it again. */
  KKT_OPERATOR_RETRY_MS: z.coerce.number().int().min(10).max(600_000).default(5_000),
  /** Wait after a hard fault (FN blocked or exhausted, FN error) before asking the register again. */
  KKT_HARD_FAULT_RETRY_MS: z.coerce.number().int().min(10).max(3_600_000).default(60_000),
  /** Scales every protocol timeout (byte, control byte, per-command answer times). */
  KKT_TIMEOUT_SCALE: z.coerce.number().min(0.01).max(100).default(1),
  /** Demo only: emulated print time per receipt, in ms (0 = instant). */
  KKT_DEMO_PRINT_MS: z.coerce.number().int().min(0).max(60_000).default(300),
});

export type Env = z.input<typeof envSchema>;

export interface DatabaseConfig {
  client: 'sqlite' | 'postgres';
  /** File path for SQLite, connection string for PostgreSQL. */
  connection: string;
  schema?: string;
  poolMax: number;
}

export interface AppConfig {
  database: DatabaseConfig;
  dataDir: string;
  host: string;
  port: number;
  logLevel: z.output<typeof envSchema>['LOG_LEVEL'];
  bodyLimitBytes: number;
  graphql: { maxDepth: number; maxComplexity: number };
  jsonrpc: { maxBatch: number };
  metricsRequireAuth: boolean;
  shutdownTimeoutMs: number;
  logikal: LogikalConfig;
  iiko: IikoConfig;
  kkt: KktConfig;
}

export type KktTransportConfig =
  | { kind: 'serial'; path: string; baudRate: number }
  | { kind: 'tcp'; host: string; port: number };

export interface KktConfig {
  /** null: no register configured (receipts queue up; `serve --demo` starts the emulator). */
  transport: KktTransportConfig | null;
  password: number;
  model: ShtrihModel;
  /** VAT rate → device byte, from KKT_MODEL and KKT_VAT_CODES. */
  vatCodes: VatCodeTable;
  ffd: '1.05' | '1.2';
  shiftCloseAfterMs: number;
  breaker: { failureThreshold: number; openMs: number; maxOpenMs: number };
  operatorRetryMs: number;
  hardFaultRetryMs: number;
  timeoutScale: number;
  demoPrintMs: number;
}

export interface IikoServerEntry {
  /** As listed in IIKO_SERVERS; stored as departments.source_server. */
  name: string;
  url: string;
  login: string;
  password: string;
  /**
   * Behaviour no real server has confirmed yet (docs/iiko.md, "Not verified"), per server:
   * <prefix>_AUTH_METHOD (POST|GET), <prefix>_EXCLUDE_DELETED (true|false),
   * <prefix>_TOKEN_REUSE_MS. Unset: the client's defaults.
   */
  authMethod?: 'POST' | 'GET';
  excludeDeleted?: boolean;
  tokenReuseMs?: number;
}

export interface IikoConfig {
  /** Empty: not configured (iiko syncs answer UNAVAILABLE unless the demo simulators run). */
  servers: IikoServerEntry[];
  timeoutMs: number;
  olapTimeoutMs: number;
  retries: number;
  salesRepullDays: number;
  demoLatencyScale: number;
}

/** `iiko-main` → `IIKO_IIKO_MAIN`: the prefix of a server's own variables. */
export function iikoEnvPrefix(name: string): string {
  return `IIKO_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function parseIikoServerOptions(prefix: string, env: Record<string, string>, problems: string[]): Partial<IikoServerEntry> {
  const out: Partial<IikoServerEntry> = {};
  const auth = env[`${prefix}_AUTH_METHOD`];
  if (auth !== undefined && auth !== '') {
    if (auth.toUpperCase() === 'POST' || auth.toUpperCase() === 'GET') out.authMethod = auth.toUpperCase() as 'POST' | 'GET';
    else problems.push(`  ${prefix}_AUTH_METHOD: must be POST or GET`);
  }
  const excl = env[`${prefix}_EXCLUDE_DELETED`];
  if (excl !== undefined && excl !== '') {
    if (/^(true|1|yes)$/i.test(excl)) out.excludeDeleted = true;
    else if (/^(false|0|no)$/i.test(excl)) out.excludeDeleted = false;
    else problems.push(`  ${prefix}_EXCLUDE_DELETED: must be true or false`);
  }
  const reuse = env[`${prefix}_TOKEN_REUSE_MS`];
  if (reuse !== undefined && reuse !== '') {
    const n = Number(reuse);
    if (Number.isInteger(n) && n >= 0 && n <= 86_400_000) out.tokenReuseMs = n;
    else problems.push(`  ${prefix}_TOKEN_REUSE_MS: must be a whole number of ms from 0 to 86400000`);
  }
  return out;
}

function parseIikoServers(list: string | undefined, env: Record<string, string>): IikoServerEntry[] {
  if (!list) return [];
  const names = list.split(',').map((n) => n.trim()).filter(Boolean);
  const problems: string[] = [];
  const prefixes = new Map<string, string>();
  const servers: IikoServerEntry[] = [];
  for (const name of names) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
      problems.push(`  IIKO_SERVERS: ${JSON.stringify(name)} is not a server name (letters, digits, . _ -; at most 64)`);
      continue;
    }
    const prefix = iikoEnvPrefix(name);
    const clash = prefixes.get(prefix);
    if (clash !== undefined) {
      problems.push(`  IIKO_SERVERS: ${JSON.stringify(name)} and ${JSON.stringify(clash)} both read ${prefix}_*`);
      continue;
    }
    prefixes.set(prefix, name);
    const [url, login, password] = ['URL', 'LOGIN', 'PASSWORD'].map((k) => env[`${prefix}_${k}`]);
    for (const [k, v] of [['URL', url], ['LOGIN', login], ['PASSWORD', password]] as const) {
      if (!v) problems.push(`  ${prefix}_${k}: required (server ${JSON.stringify(name)} is listed in IIKO_SERVERS)`);
    }
    if (url && !z.string().url().safeParse(url).success) {
      problems.push(`  ${prefix}_URL: must be a URL like https://name.iiko.it/resto`);
    }
    const optional = parseIikoServerOptions(prefix, env, problems);
    if (url && login && password) servers.push({ name, url, login, password, ...optional });
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return servers;
}

export interface LogikalConfig {
  /** null: not configured (force sync answers UNAVAILABLE unless the demo simulator runs). */
  url: string | null;
  username: string | null;
  password: string | null;
  erp: boolean;
  maxSessions: number;
  siblingSelect: 'auto' | 'on' | 'off';
  timeoutMs: number;
  partsListTimeoutMs: number;
  retries: number;
  thumbnails: boolean;
  demoLatencyScale: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses and validates the environment; throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // Empty strings count as unset so `FOO=` in a .env file does not fail validation.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.LOGIKAL_URL && (!e.LOGIKAL_USERNAME || !e.LOGIKAL_PASSWORD)) {
    throw new ConfigError('Invalid configuration:\n  LOGIKAL_USERNAME / LOGIKAL_PASSWORD: required when LOGIKAL_URL is set');
  }
  const iikoServers = parseIikoServers(e.IIKO_SERVERS, cleaned as Record<string, string>);
  if (e.KKT_PORT && e.KKT_TCP) throw new ConfigError('Invalid configuration:\n  KKT_PORT / KKT_TCP: set one of them, not both');
  let vatCodes: VatCodeTable;
  try {
    vatCodes = resolveVatTable(e.KKT_MODEL, e.KKT_VAT_CODES ?? null);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  KKT_VAT_CODES: ${(err as Error).message}`);
  }
  const [tcpHost, tcpPort] = e.KKT_TCP ? [e.KKT_TCP.slice(0, e.KKT_TCP.lastIndexOf(':')), Number(e.KKT_TCP.slice(e.KKT_TCP.lastIndexOf(':') + 1))] : [null, 0];
  const dataDir = path.resolve(e.DATA_DIR);
  let database: DatabaseConfig;
  if (e.DATABASE_URL && /^postgres/.test(e.DATABASE_URL)) {
    database = { client: 'postgres', connection: e.DATABASE_URL, schema: e.DATABASE_SCHEMA, poolMax: e.DATABASE_POOL_MAX };
  } else {
    const file = e.DATABASE_URL ? e.DATABASE_URL.replace(/^sqlite:\/\//, '') : path.join(dataDir, 'companion.sqlite');
    database = { client: 'sqlite', connection: file === ':memory:' ? file : path.resolve(file), poolMax: 1 };
  }
  return {
    database,
    dataDir,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    graphql: { maxDepth: e.GRAPHQL_MAX_DEPTH, maxComplexity: e.GRAPHQL_MAX_COMPLEXITY },
    jsonrpc: { maxBatch: e.JSONRPC_MAX_BATCH },
    metricsRequireAuth: e.METRICS_REQUIRE_AUTH,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_S * 1000,
    logikal: {
      url: e.LOGIKAL_URL ?? null,
      username: e.LOGIKAL_USERNAME ?? null,
      password: e.LOGIKAL_PASSWORD ?? null,
      erp: e.LOGIKAL_ERP,
      maxSessions: e.LOGIKAL_MAX_SESSIONS,
      siblingSelect: e.LOGIKAL_SIBLING_SELECT,
      timeoutMs: e.LOGIKAL_TIMEOUT_MS,
      partsListTimeoutMs: e.LOGIKAL_PARTS_TIMEOUT_MS,
      retries: e.LOGIKAL_RETRIES,
      thumbnails: e.LOGIKAL_THUMBNAILS,
      demoLatencyScale: e.LOGIKAL_DEMO_LATENCY_SCALE,
    },
    iiko: {
      servers: iikoServers,
      timeoutMs: e.IIKO_TIMEOUT_MS,
      olapTimeoutMs: e.IIKO_OLAP_TIMEOUT_MS,
      retries: e.IIKO_RETRIES,
      salesRepullDays: e.IIKO_SALES_REPULL_DAYS,
      demoLatencyScale: e.IIKO_DEMO_LATENCY_SCALE,
    },
    kkt: {
      transport: e.KKT_PORT
        ? { kind: 'serial', path: e.KKT_PORT, baudRate: e.KKT_BAUD_RATE }
        : tcpHost
          ? { kind: 'tcp', host: tcpHost, port: tcpPort }
          : null,
      password: e.KKT_PASSWORD,
      model: e.KKT_MODEL,
      vatCodes,
      ffd: e.KKT_FFD,
      shiftCloseAfterMs: Math.round(e.KKT_SHIFT_CLOSE_AFTER_H * 3_600_000),
      breaker: { failureThreshold: e.KKT_BREAKER_FAILURES, openMs: e.KKT_BREAKER_OPEN_MS, maxOpenMs: Math.max(60_000, e.KKT_BREAKER_OPEN_MS) },
      operatorRetryMs: e.KKT_OPERATOR_RETRY_MS,
      hardFaultRetryMs: e.KKT_HARD_FAULT_RETRY_MS,
      timeoutScale: e.KKT_TIMEOUT_SCALE,
      demoPrintMs: e.KKT_DEMO_PRINT_MS,
    },
  };
}

/** A redacted view for logging at start-up (connection strings may carry passwords). */
export function describeConfig(c: AppConfig): Record<string, unknown> {
  return {
    database: { client: c.database.client, connection: redactUrl(c.database.connection), schema: c.database.schema },
    host: c.host,
    port: c.port,
    logLevel: c.logLevel,
    logikal: { url: c.logikal.url ?? 'not configured', username: c.logikal.username, maxSessions: c.logikal.maxSessions },
    iiko: c.iiko.servers.length ? c.iiko.servers.map((s) => ({ name: s.name, url: redactUrl(s.url), login: s.login })) : 'not configured',
    // The register's password is not logged.
    kkt: c.kkt.transport ? { ...c.kkt.transport, model: c.kkt.model, ffd: c.kkt.ffd } : 'not configured',
  };
}

export function redactUrl(s: string): string {
  return s.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
