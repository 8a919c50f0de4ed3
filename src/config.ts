/**
 * Configuration is read from the environment once, validated, and passed around as a typed
 * object. Nothing else in the code base reads process.env (see docs/configuration.md and
 * .env.example for every variable).
 */
import path from 'node:path';
import { z } from 'zod';

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
  GRAPHQL_MAX_COMPLEXITY: z.coerce.number().int().min(10).default(50_000),
  JSONRPC_MAX_BATCH: z.coerce.number().int().min(1).max(10000).default(100),
  /** /metrics requires an API key with the `read` scope unless this is false. */
  METRICS_REQUIRE_AUTH: bool.default(true),
  /** Seconds a graceful shutdown waits for in-flight requests before closing them. */
  SHUTDOWN_TIMEOUT_S: z.coerce.number().min(0).max(600).default(15),
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
  };
}

/** A redacted view for logging at start-up (connection strings may carry passwords). */
export function describeConfig(c: AppConfig): Record<string, unknown> {
  return {
    database: { client: c.database.client, connection: redactUrl(c.database.connection), schema: c.database.schema },
    host: c.host,
    port: c.port,
    logLevel: c.logLevel,
  };
}

export function redactUrl(s: string): string {
  return s.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
