/**
 * Subscriptions over graphql-ws on the same path as /graphql, with the graphql-ws client:
 * a late subscriber gets the current state first, then every change until the run ends;
 * keys are checked at connection time; limits apply as over HTTP.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, finishRun, reportProgress, startRun } from '../src/services/sync-runs';
import { DB_KINDS } from './helpers/db';
import { gql, startTestServer, type TestServer } from './helpers/server';

function client(url: string, key: string | null): Client {
  return createClient({
    url: url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: key ? { Authorization: `Bearer ${key}` } : {},
  });
}

/** Collects every `next` payload until completion or error. */
function collect(c: Client, query: string, onFirst?: () => void): Promise<{ data: any[]; error?: unknown }> {
  return new Promise((resolve) => {
    const data: any[] = [];
    c.subscribe(
      { query },
      {
        next: (v) => {
          data.push(v);
          if (data.length === 1) onFirst?.();
        },
        error: (error) => resolve({ data, error }),
        complete: () => resolve({ data }),
      },
    );
  });
}

describe.each(DB_KINDS)('graphql-ws subscriptions on %s', (db) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ db });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('streams a sync run from its current state to the end', async () => {
    const svc = s.companion.services;
    const run = await createRun(svc, { kind: 'test.job', target: 'demo', total: 3 });
    await startRun(svc, run.id);
    await reportProgress(svc, run.id, { step: 'one', done: 1, counters: { items_synced: 1 } });
    const c = client(s.url, s.adminKey);
    const done = collect(c, `subscription { syncRunUpdated(id: ${run.id}) { status done total counters lastStep } }`, async () => {
      await reportProgress(svc, run.id, { step: 'two', done: 2, counters: { items_synced: 2 } });
      await reportProgress(svc, run.id, { step: 'three', done: 3, counters: { items_synced: 3 } });
      await finishRun(svc, run.id, 'succeeded');
    });
    const { data, error } = await done;
    await c.dispose();
    expect(error).toBeUndefined();
    const states = data.map((d) => d.data.syncRunUpdated);
    expect(states[0]).toMatchObject({ status: 'RUNNING', done: 1, lastStep: 'one' }); // caught up, not empty
    expect(states.map((x) => x.done)).toEqual([1, 2, 3, 3]);
    expect(states.at(-1)).toMatchObject({ status: 'SUCCEEDED', counters: { items_synced: 3 } });
  });

  it('a subscriber to a finished run gets its final state and completes', async () => {
    const svc = s.companion.services;
    const run = await createRun(svc, { kind: 'test.job', target: 'done' });
    await finishRun(svc, run.id, 'failed', 'boom');
    const c = client(s.url, s.adminKey);
    const { data } = await collect(c, `subscription { syncRunUpdated(id: ${run.id}) { status error } }`);
    await c.dispose();
    expect(data.map((d) => d.data.syncRunUpdated)).toEqual([{ status: 'FAILED', error: 'boom' }]);
  });

  it('the cancel mutation over HTTP reaches a live subscriber', async () => {
    const svc = s.companion.services;
    const run = await createRun(svc, { kind: 'test.job', target: 'cancel-me' });
    const c = client(s.url, s.adminKey);
    const done = collect(c, `subscription { syncRunUpdated(id: ${run.id}) { status } }`, async () => {
      const r = await gql(s.url, s.adminKey, `mutation { cancelSyncRun(id: ${run.id}) { status } }`);
      expect(r.body.data.cancelSyncRun.status).toBe('CANCELLED');
    });
    const { data } = await done;
    await c.dispose();
    expect(data.map((d) => d.data.syncRunUpdated.status)).toEqual(['QUEUED', 'CANCELLED']);
  });

  it('closes with 4403 for a missing or unknown key', async () => {
    for (const key of [null, 'oc_0123456789_' + 'y'.repeat(43)]) {
      const c = client(s.url, key);
      const { error } = await collect(c, 'subscription { syncRunUpdated(id: 1) { status } }');
      await c.dispose();
      expect((error as { code?: number }).code).toBe(4403);
    }
  });

  it('reports NOT_FOUND for an unknown run and applies the depth limit', async () => {
    const c = client(s.url, s.adminKey);
    const missing = await collect(c, 'subscription { syncRunUpdated(id: 987654) { status } }');
    expect(JSON.stringify(missing)).toMatch(/NOT_FOUND|not found/);
    const deep = await collect(c, '{ projects(first: 1) { edges { node { phases { project { phases { project { phases { project { name } } } } } } } } } }');
    expect(JSON.stringify(deep.error)).toMatch(/QUERY_TOO_DEEP|levels deep/);
    await c.dispose();
  });
});
