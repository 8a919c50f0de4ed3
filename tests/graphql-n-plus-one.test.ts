/**
 * N+1 guard: a 3-level query must cost one SQL statement per nesting level, however many rows
 * it returns. Statements are counted with knex's `query` event on the live server's pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from './helpers/db';
import { gql, startTestServer, type TestServer } from './helpers/server';

describe.each(DB_KINDS)('statements per GraphQL query on %s', (db) => {
  let s: TestServer;
  const statements: string[] = [];
  const record = (q: { sql: string }) => statements.push(q.sql);

  beforeAll(async () => {
    s = await startTestServer({ db });
    s.companion.db.on('query', record);
  });
  afterAll(async () => {
    s.companion.db.off('query', record);
    await s?.close();
  });

  async function count(query: string): Promise<string[]> {
    await gql(s.url, s.adminKey, '{ __typename }'); // warm the key's last-used write out of the window
    statements.length = 0;
    const r = await gql(s.url, s.adminKey, query);
    expect(r.body.errors).toBeUndefined();
    // The API-key lookup is per request, not per level: leave it out.
    return statements.filter((sql) => !/api_clients/.test(sql));
  }

  it('projects → phases → elevations → glass: one statement per level', async () => {
    const sql = await count('{ projects(first: 10) { edges { node { name phases { name elevations { name glass { glassId } } } } } } }');
    // projects page, phases, elevations, glass
    expect(sql).toHaveLength(4);
    expect(sql.filter((q) => /from [`"]?phases[`"]? /.test(q))).toHaveLength(1);
    expect(sql.filter((q) => /from [`"]?elevations[`"]? /.test(q))).toHaveLength(1);
    expect(sql.filter((q) => /from [`"]?elevation_glass[`"]? /.test(q))).toHaveLength(1);
  });

  it('the count does not grow with the number of rows', async () => {
    const one = await count('{ elevations(first: 1) { edges { node { name phase { name project { name } } parts { articleCode } } } } }');
    const all = await count('{ elevations(first: 17) { edges { node { name phase { name project { name } } parts { articleCode } } } } }');
    expect(all.length).toBe(one.length);
    expect(all.length).toBe(4);
  });
});
