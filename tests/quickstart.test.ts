/**
 * The README's quick start: `npm start` (= `companion serve --demo`) on a fresh data folder
 * migrates and seeds SQLite, prints a first admin key once, and serves GraphQL, GraphiQL and
 * JSON-RPC, with the demo's built-in cash register printing receipts. Then SIGTERM: in-flight requests finish, subscriptions close cleanly, exit 0.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { createKnex } from '../src/db/knex';
import { startServe } from './helpers/cli';
import { gql, rpc } from './helpers/server';

describe('quick start: companion serve --demo on a fresh machine', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'companion-quickstart-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('serves the demo data with a printed admin key, then shuts down gracefully', async () => {
    const srv = await startServe(['--demo'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    const key = /(oc_[a-z0-9]{10}_[A-Za-z0-9_-]{43})/.exec(srv.output())?.[1];
    expect(key, srv.output()).toBeTruthy();
    expect(fs.existsSync(path.join(dataDir, 'companion.sqlite'))).toBe(true);

    const g = await gql(srv.url, key!, '{ project(name: "DOS22309") { phases { elevations { name } } directory { path } } }');
    expect(g.body.data.project.directory.path).toBe('Demo Odoo');
    expect(g.body.data.project.phases.flatMap((p: any) => p.elevations)).toHaveLength(17);
    const r = await rpc(srv.url, key!, { jsonrpc: '2.0', id: 1, method: 'departments.tree' });
    expect(r.body.result.length).toBeGreaterThanOrEqual(2);
    // The demo's built-in register (the Shtrih emulator, in process) fiscalises a sale.
    const created = await gql(srv.url, key!, `mutation {
      createReceipt(input: { clientUuid: "${randomUUID()}", taxSystem: "osn",
        items: [{ name: "Кофе в зёрнах", priceMinor: 45000, quantity: 2, vat: "vat22" }],
        payments: [{ type: "cash", amountMinor: 100000 }] }) { duplicate receipt { id status changeMinor } } }`);
    expect(created.body.errors, JSON.stringify(created.body)).toBeUndefined();
    expect(created.body.data.createReceipt).toMatchObject({ duplicate: false, receipt: { status: 'QUEUED', changeMinor: 10000 } });
    const receiptId = created.body.data.createReceipt.receipt.id;
    let printed: any;
    for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      printed = (await gql(srv.url, key!, `{ receipt(id: "${receiptId}") { status fnSerial fiscalDocumentNumber fiscalSign } }`)).body.data.receipt;
      if (printed.status !== 'QUEUED' && printed.status !== 'PRINTING') break;
    }
    expect(printed).toMatchObject({ status: 'FISCALISED', fnSerial: '9999078900012345' });
    expect(printed.fiscalDocumentNumber).toBeGreaterThan(1030);
    expect(printed.fiscalSign).toMatch(/^\d+$/);

    const page = await fetch(`${srv.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toMatch(/graphiql/i);

    // A subscription that stays open: a run another process marked running, still in progress.
    const side = createKnex({ client: 'sqlite', connection: path.join(dataDir, 'companion.sqlite'), poolMax: 1 });
    const now = new Date().toISOString();
    const [row] = await side('syncRuns').insert({ kind: 'test.job', target: 'open', status: 'running', counters: '{}', done: 0, queuedAt: now, startedAt: now, updatedAt: now }).returning('id');
    await side.destroy();
    const runId = typeof row === 'object' ? row.id : row;
    const client = createClient({ url: srv.url.replace('http', 'ws') + '/graphql', webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { Authorization: `Bearer ${key}` } });
    const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)));
    await new Promise<void>((resolve, reject) => {
      client.subscribe({ query: `subscription { syncRunUpdated(id: ${runId}) { status } }` }, { next: () => resolve(), error: reject, complete: () => undefined });
    });
    // And a request whose body is still arriving when SIGTERM comes.
    const { port, hostname } = new URL(srv.url);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'projects.list', params: { first: 1 } });
    const socket = net.connect(Number(port), hostname);
    await new Promise((r) => socket.once('connect', r));
    const answer = new Promise<string>((resolve) => {
      let buf = '';
      socket.on('data', (d) => (buf += d));
      socket.on('close', () => resolve(buf));
    });
    socket.write(`POST /jsonrpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    socket.write(body.slice(0, 10));
    await new Promise((r) => setTimeout(r, 200));

    srv.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    socket.write(body.slice(10)); // the in-flight request completes after SIGTERM
    const raw = await answer;
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).toContain('"id":7');
    expect(await srv.exited).toBe(0);
    // 1001 Going Away: graphql-ws's clean close on server shutdown.
    expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r('not closed'), 5000))])).toBe(1001);
    await client.dispose();
  });

  it('prints no key on the second start, since one exists', async () => {
    const srv = await startServe(['--demo'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(srv.output()).not.toMatch(/oc_[a-z0-9]{10}_/);
    srv.child.kill('SIGTERM');
    expect(await srv.exited).toBe(0);
  });
});
