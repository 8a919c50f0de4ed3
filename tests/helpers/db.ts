/**
 * Test databases: every test file gets a private SQLite file and a private PostgreSQL schema,
 * so files run in parallel without seeing each other's rows. PostgreSQL is not optional: a
 * test that cannot reach it fails (CI must not go green on SQLite alone).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseConfig } from '../../src/config';
import { createKnex, ensureSchema, type Knex } from '../../src/db/knex';
import { migrateLatest } from '../../src/db/migrate';

export type DbKind = 'sqlite' | 'postgres';
export const DB_KINDS: DbKind[] = ['sqlite', 'postgres'];

export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  kind: DbKind;
  config: DatabaseConfig;
  /** Env vars that make loadConfig() point at this database (for child processes). */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export function makeTestDb(kind: DbKind): TestDb {
  const tag = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'companion-test-'));
    const file = path.join(dir, 'companion.sqlite');
    return {
      kind,
      config: { client: 'sqlite', connection: file, poolMax: 1 },
      env: { DATABASE_URL: `sqlite://${file}`, DATA_DIR: dir },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `t_${tag}`;
  return {
    kind,
    config: { client: 'postgres', connection: TEST_PG_URL, schema, poolMax: 4 },
    env: { DATABASE_URL: TEST_PG_URL, DATABASE_SCHEMA: schema },
    drop: async () => {
      const k = createKnex({ client: 'postgres', connection: TEST_PG_URL, poolMax: 1 });
      try {
        await k.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      } finally {
        await k.destroy();
      }
    },
  };
}

/** A migrated knex on a fresh test database; `close()` destroys the pool and drops the data. */
export async function openTestKnex(kind: DbKind): Promise<{ db: Knex; testDb: TestDb; close(): Promise<void> }> {
  const testDb = makeTestDb(kind);
  const db = createKnex(testDb.config);
  await ensureSchema(db, testDb.config);
  await migrateLatest(db);
  return {
    db,
    testDb,
    close: async () => {
      await db.destroy();
      await testDb.drop();
    },
  };
}
