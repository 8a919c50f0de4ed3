/**
 * Starts the real middleware (createCompanion: real HTTP, real database) with the demo data
 * and an admin key, on a free port. Used by every end-to-end test.
 */
import { createCompanion, type Companion } from '../../src/app';
import { loadConfig, type AppConfig } from '../../src/config';
import type { FiscalRegister } from '../../src/device/register';
import { createLogger, type Logger } from '../../src/logger';
import { createApiKey } from '../../src/services/api-keys';
import { seedDemo } from '../../seeds';
import { makeTestDb, type DbKind, type TestDb } from './db';

export interface TestServer {
  url: string;
  /** Bearer key with every scope. */
  adminKey: string;
  companion: Companion;
  testDb: TestDb;
  /** Creates another key with the given scopes. */
  key(scopes: string[], name?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: { db?: DbKind; env?: Record<string, string>; logger?: Logger; seed?: boolean; register?: (config: AppConfig, logger: Logger) => FiscalRegister } = {},
): Promise<TestServer> {
  const testDb = makeTestDb(opts.db ?? 'sqlite');
  const config = loadConfig({ ...testDb.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...opts.env });
  const logger = opts.logger ?? createLogger('silent');
  const companion = await createCompanion(config, { logger, ...(opts.register ? { register: opts.register(config, logger) } : {}) });
  if (opts.seed !== false) await seedDemo(companion.db);
  const key = async (scopes: string[], name = `test ${scopes.join('+')}`) =>
    (await createApiKey(companion.services, { name, scopes })).key;
  const adminKey = await key(['admin'], 'test admin');
  const url = await companion.listen();
  return {
    url,
    adminKey,
    companion,
    testDb,
    key,
    close: async () => {
      await companion.stop();
      await testDb.drop();
    },
  };
}

/** POSTs a GraphQL operation; returns status and parsed body. */
export async function gql(
  url: string,
  key: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: await res.json() };
}

/** POSTs a JSON-RPC call (or batch); returns status and parsed body (null for 204). */
export async function rpc(url: string, key: string | null, payload: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
