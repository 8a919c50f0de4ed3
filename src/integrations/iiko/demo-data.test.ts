/**
 * The demo iiko simulators serve exactly what the demo seed inserted: every department (GUID,
 * parent, code, name, type, tax id) and every (department, dish code, day) of the 90 days of
 * sales, fetched through IikoClient over real HTTP and compared with the seeded SQLite rows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../../seeds/demo';
import { createKnex, type Knex } from '../../db/knex';
import { migrateLatest } from '../../db/migrate';
import { IikoClient } from './client';
import { DEMO_IIKO_SALES_DAYS } from './demo-data';
import { demoIikoServers, startIikoSimulator, type IikoSimulator } from './simulator';

describe('demo iiko servers = demo seed', () => {
  let dir: string;
  let db: Knex;
  const sims: IikoSimulator[] = [];
  const clients: IikoClient[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iiko-demo-'));
    db = createKnex({ client: 'sqlite', connection: path.join(dir, 'demo.sqlite'), poolMax: 1 });
    await migrateLatest(db);
    await seedDemo(db);
    for (const server of demoIikoServers()) {
      const sim = await startIikoSimulator({ data: server.data, latencyScale: 0, login: 'demo', password: 'demo' });
      sims.push(sim);
      clients.push(new IikoClient({ name: server.name, baseUrl: sim.url, login: 'demo', password: 'demo' }));
    }
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(sims.map((s) => s.close()));
    await db?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the seeded departments of each server, field for field', async () => {
    for (const client of clients) {
      const listed = await client.session((s) => s.departments());
      const rows = await db('departments').where({ sourceServer: client.name }).orderBy('id');
      expect(listed).toHaveLength(rows.length);
      const root = (p: string | null) => (p === null || p === '' || p === '0' || /^0{8}-/.test(p) ? null : p);
      expect(listed.map((d) => ({ guid: d.id, parentGuid: root(d.parentId), code: d.code, name: d.name, type: d.type, taxpayerId: d.taxpayerId })).sort((a, b) => a.guid.localeCompare(b.guid))).toEqual(
        rows.map((r) => ({ guid: r.guid, parentGuid: r.parentGuid, code: r.code, name: r.name, type: r.type, taxpayerId: r.taxpayerId })).sort((a, b) => a.guid.localeCompare(b.guid)),
      );
    }
  });

  it('answers every seeded day of sales with the seeded quantities and amounts', async () => {
    const seeded = (await db('dailySales')
      .join('departments', 'departments.id', 'dailySales.departmentId')
      .select('departments.sourceServer as server', 'departments.guid as guid', 'dailySales.productCode as code', 'dailySales.productName as name', 'dailySales.date as date', 'dailySales.quantity as quantity', 'dailySales.amountMinor as amountMinor')) as Array<Record<string, string | number>>;
    const key = (server: string, guid: string, code: string | null, date: string) => `${server}|${guid}|${code}|${date}`;
    const want = new Map(seeded.map((r) => [key(String(r.server), String(r.guid), String(r.code), String(r.date)), r]));
    const days = [...new Set(seeded.map((r) => String(r.date)))].sort();
    expect(days).toHaveLength(DEMO_IIKO_SALES_DAYS);
    let seen = 0;
    for (const client of clients) {
      await client.session(async (s) => {
        for (const day of days) {
          for (const row of await s.sales(day)) {
            const w = want.get(key(client.name, row.departmentId, row.dishCode, row.date));
            expect(w, `${client.name} ${row.departmentId} ${row.dishCode} ${row.date}`).toBeDefined();
            expect([row.dishName, row.quantity, row.amountMinor]).toEqual([w!.name, Number(w!.quantity), Number(w!.amountMinor)]);
            seen++;
          }
        }
      });
    }
    expect(seen).toBe(seeded.length);
  });
});
