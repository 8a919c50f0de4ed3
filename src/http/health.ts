/**
 * /healthz: the process is alive (no dependencies checked, so a slow database never gets a
 * healthy process restarted). /readyz: the database answers within a second, migrations are
 * current and the server is not draining; load balancers stop sending traffic otherwise.
 */
import express from 'express';
import type { Knex } from 'knex';
import { pendingMigrations } from '../db/migrate';

export function healthRoutes(db: Knex, isDraining: () => boolean): express.Router {
  const r = express.Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    let ready = true;
    if (isDraining()) {
      checks.server = 'draining';
      ready = false;
    } else checks.server = 'ok';
    try {
      await withTimeout(db.raw('select 1'), 1000);
      checks.database = 'ok';
      const pending = await withTimeout(pendingMigrations(db), 2000);
      checks.migrations = pending.length ? `pending: ${pending.join(', ')}` : 'ok';
      if (pending.length) ready = false;
    } catch (e) {
      checks.database = `unreachable: ${(e as Error).message}`;
      ready = false;
    }
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  return r;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
