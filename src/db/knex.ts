/**
 * One knex factory for both databases. SQLite (better-sqlite3) is the embedded default;
 * PostgreSQL is production. Everything dialect-specific about connections lives here, so
 * services and models stay dialect-neutral.
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { knexSnakeCaseMappers } from 'objection';
import pg from 'pg';
import type { DatabaseConfig } from '../config';

export type { Knex };

let pgTypesConfigured = false;
/**
 * pg returns int8 and numeric as strings and `date` as a local-time Date; we want numbers
 * (money is integer minor units, far below 2^53) and plain 'YYYY-MM-DD' strings like SQLite.
 */
function configurePgTypes(): void {
  if (pgTypesConfigured) return;
  pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
  pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
  pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
  // Timestamps come back as ISO-8601 strings, like SQLite's, without a Date round trip.
  pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, pgTimestampToIso);
  pgTypesConfigured = true;
}

/**
 * Code uses camelCase identifiers (`jobNumber`), tables use snake_case (`job_number`); the
 * mappers translate both ways for every query, models and raw builders alike.
 */
function identifierMapping(): Pick<Knex.Config, 'wrapIdentifier' | 'postProcessResponse'> {
  return knexSnakeCaseMappers();
}

const PG_UTC_TS = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?\+00$/;

/** '2026-11-22 01:03:06.12+00' (sessions run in UTC) → '2026-11-22T01:03:06.120Z'. */
export function pgTimestampToIso(v: string): string {
  const m = PG_UTC_TS.exec(v);
  if (!m) return new Date(v).toISOString();
  const ms = (m[3] ?? '.000').slice(0, 4).padEnd(4, '0');
  return `${m[1]}T${m[2]}${ms}Z`;
}

export function createKnex(db: DatabaseConfig): Knex {
  if (db.client === 'postgres') {
    configurePgTypes();
    return knexFactory({
      ...identifierMapping(),
      client: 'pg',
      connection: db.connection,
      searchPath: db.schema ? [db.schema] : undefined,
      pool: {
        min: 0,
        max: db.poolMax,
        // Every connection sees timestamps in UTC, whatever the server's default.
        afterCreate(conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) {
          conn.query("SET TIME ZONE 'UTC'", (err) => done(err ?? null, conn));
        },
      },
    });
  }
  if (db.connection !== ':memory:') fs.mkdirSync(path.dirname(db.connection), { recursive: true });
  return knexFactory({
    ...identifierMapping(),
    client: 'better-sqlite3',
    connection: { filename: db.connection },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: import('better-sqlite3').Database, done: (err: Error | null, conn: unknown) => void) {
        // WAL lets readers run beside the writer; synchronous=FULL makes a commit durable
        // before it returns (the receipt queue relies on that); foreign keys are off by default in SQLite.
        conn.pragma('journal_mode = WAL');
        conn.pragma('synchronous = FULL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        done(null, conn);
      },
    },
  });
}

/** PostgreSQL only: create the configured schema so migrations can run inside it. */
export async function ensureSchema(knex: Knex, db: DatabaseConfig): Promise<void> {
  if (db.client === 'postgres' && db.schema) {
    await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [db.schema]);
  }
}

export function isPostgres(knex: Knex): boolean {
  return knex.client.config.client === 'pg';
}
