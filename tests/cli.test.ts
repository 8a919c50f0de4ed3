/**
 * The `companion` CLI as users run it (the built binary in a child process): migrate, seed,
 * API keys, schema emission and configuration errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKnex } from '../src/db/knex';
import { DB_KINDS, makeTestDb, type TestDb } from './helpers/db';
import { runCli } from './helpers/cli';
import { rpc, gql } from './helpers/server';
import { startServe } from './helpers/cli';

describe.each(DB_KINDS)('companion CLI on %s', (kind) => {
  let tdb: TestDb;
  beforeAll(() => {
    tdb = makeTestDb(kind);
  });
  afterAll(async () => {
    await tdb.drop();
  });

  it('migrate, seed, and apikey create | list | revoke', async () => {
    const env = { ...tdb.env, LOG_LEVEL: 'warn' };
    expect((await runCli(['migrate', '--status'], env)).stdout).toMatch(/pending: 20261122_0001_core/);
    expect((await runCli(['migrate'], env)).stdout).toMatch(/applied: 20261122_0001_core/);
    expect((await runCli(['migrate'], env)).stdout).toMatch(/already up to date/);
    expect((await runCli(['seed'], env)).stdout).toMatch(/seeded/);
    expect((await runCli(['seed'], env)).stdout).toMatch(/already present/);

    const created = await runCli(['apikey', 'create', '--name', 'odoo', '--scopes', 'read,sync'], env);
    expect(created.code).toBe(0);
    const key = /(oc_[a-z0-9]{10}_[A-Za-z0-9_-]{43})/.exec(created.stdout)![1];
    const listed = await runCli(['apikey', 'list'], env);
    expect(listed.stdout).toMatch(/odoo\s+read,sync/);
    expect(listed.stdout).not.toContain(key);

    const bad = await runCli(['apikey', 'create', '--name', 'x', '--scopes', 'root'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown scope.*root/);

    const srv = await startServe([], env);
    try {
      expect((await rpc(srv.url, key, { jsonrpc: '2.0', id: 1, method: 'projects.list' })).status).toBe(200);
      const prefix = key.split('_').slice(0, 2).join('_');
      expect((await runCli(['apikey', 'revoke', prefix], env)).stdout).toMatch(/revoked/);
      // Revocation takes effect on the running server's next request.
      expect((await gql(srv.url, key, '{ __typename }')).status).toBe(401);
    } finally {
      srv.child.kill('SIGTERM');
      expect(await srv.exited).toBe(0);
    }
  });
});

describe('companion sync logikal', () => {
  it('runs a force sync against the built-in simulator and prints progress and counters', async () => {
    const tdb = makeTestDb('sqlite');
    try {
      const r = await runCli(
        ['sync', 'logikal', '--directory', 'Demo Odoo', '--project', 'DOS22309', '--demo'],
        { ...tdb.env, LOG_LEVEL: 'warn', LOGIKAL_DEMO_LATENCY_SCALE: '0' },
        60_000,
      );
      expect(r.code, r.stderr).toBe(0);
      // Not a TTY: one line per progress event, then the outcome and the counters.
      expect(r.stdout).toMatch(/parts-list: P01/);
      expect(r.stdout).toMatch(/\[#+\.*\]\s+\d+\/17/);
      expect(r.stdout).toMatch(/succeeded in \d+\.\d s/);
      expect(r.stdout).toMatch(/elevations_synced\s+17/);
      expect(r.stdout).toMatch(/parts_lists_synced\s+17/);
      const bad = await runCli(['sync', 'logikal', '--directory', 'Demo Odoo', '--project', 'NOPE', '--demo'], { ...tdb.env, LOGIKAL_DEMO_LATENCY_SCALE: '0' }, 60_000);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/failed.*NOPE.*not found/);
      const unconfigured = await runCli(['sync', 'logikal', '--directory', 'Demo Odoo', '--project', 'DOS22309'], tdb.env);
      expect(unconfigured.code).toBe(2);
      expect(unconfigured.stderr).toMatch(/LOGIKAL_URL/);
    } finally {
      await tdb.drop();
    }
  });
});

describe('companion sync iiko', () => {
  it('checks the sales dates before syncing anything', async () => {
    const tdb = makeTestDb('sqlite');
    try {
      const env = { ...tdb.env, LOG_LEVEL: 'warn', IIKO_DEMO_LATENCY_SCALE: '0' };
      const bad = await runCli(['sync', 'iiko', '--demo', '--sales-from', '2026-02-30x', '--sales-to', '2026-03-01'], env, 60_000);
      expect(bad.code, bad.stdout).toBe(2);
      expect(bad.stderr).toMatch(/"--sales-from" must be a date YYYY-MM-DD/);
      const reversed = await runCli(['sync', 'iiko', '--demo', '--sales-from', '2026-03-02', '--sales-to', '2026-03-01'], env, 60_000);
      expect(reversed.code).toBe(2);
      expect(reversed.stderr).toMatch(/"--sales-from" is after "--sales-to"/);
      // Nothing ran: no sync run was recorded (the database was not even migrated).
      expect(bad.stdout + reversed.stdout).not.toMatch(/departments|succeeded/);
      const db = createKnex(tdb.config);
      try {
        const hasRuns = await db.schema.hasTable('sync_runs');
        expect(hasRuns ? Number(((await db('syncRuns').count({ n: '*' })) as any)[0].n) : 0).toBe(0);
      } finally {
        await db.destroy();
      }
    } finally {
      await tdb.drop();
    }
  });
});

describe('companion CLI configuration errors', () => {
  it('exits 2 naming the bad variable', async () => {
    const r = await runCli(['migrate'], { PORT: 'eighty', DATABASE_URL: 'mysql://nope' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PORT/);
    expect(r.stderr).toMatch(/DATABASE_URL: must start with postgres/);
  });
});
