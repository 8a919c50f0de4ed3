/**
 * The benchmark's database: a private PostgreSQL schema (so a run never sees or leaves rows in
 * anyone else's data), dropped again when the run ends, also when it fails. Benchmarks are
 * built without tests/, so this mirrors tests/helpers/db.ts rather than importing it.
 */
import { randomBytes } from 'node:crypto';
import { createKnex } from '../src/db/knex';
import { redactUrl } from '../src/config';

export const BENCH_PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDb {
  url: string;
  schema: string;
  /** Env vars that make loadConfig() point at this schema. */
  env: Record<string, string>;
  /** Drops the schema (idempotent). */
  drop(): Promise<void>;
}

export function makeBenchDb(url: string = BENCH_PG_URL): BenchDb {
  const schema = `bench_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let dropped = false;
  return {
    url,
    schema,
    env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
    drop: async () => {
      if (dropped) return;
      const k = createKnex({ client: 'postgres', connection: url, poolMax: 1 });
      try {
        await k.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
        dropped = true;
      } finally {
        await k.destroy();
      }
    },
  };
}

export function describeDb(db: BenchDb): string {
  return `${redactUrl(db.url)} (schema ${db.schema})`;
}
