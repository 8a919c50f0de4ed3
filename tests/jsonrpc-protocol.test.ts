import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import { parseObject } from 'jsonrpc-lite';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, JSONRPC_CODE } from '../src/errors';
import type { Principal } from '../src/auth/scopes';
import { defineMethod, MethodRegistry, type AnyMethodDef, type RpcContextBase } from '../src/jsonrpc/registry';
import { dispatch, type DispatchOptions } from '../src/jsonrpc/protocol';
import { buildOpenRpcDocument } from '../src/jsonrpc/openrpc';
import { jsonRpcHandler } from '../src/jsonrpc/http';

// ---------------------------------------------------------------------------------------
// A registry with the spec's example methods plus a few that exercise our own rules.

type Ctx = RpcContextBase;
const INFO = { title: 'test service', version: '0.0.0' };

const methods = {
  subtract: defineMethod({
    name: 'subtract',
    summary: 'minuend - subtrahend',
    scope: 'read',
    params: z.object({ minuend: z.number().describe('the number to subtract from'), subtrahend: z.number() }),
    result: z.number(),
    handler: async ({ minuend, subtrahend }) => minuend - subtrahend,
  }),
  // The spec's sum is variadic; by-position params map onto named keys here, so it takes three.
  sum: defineMethod({
    name: 'sum',
    summary: 'a + b + c',
    scope: 'read',
    params: z.object({ a: z.number(), b: z.number().default(0), c: z.number().default(0) }),
    result: z.number(),
    handler: async ({ a, b, c }) => a + b + c,
  }),
  update: defineMethod({
    name: 'update',
    summary: 'accepts five numbers and returns nothing (undefined, sent as null)',
    scope: 'read',
    params: z.object({ a: z.number(), b: z.number(), c: z.number(), d: z.number(), e: z.number() }),
    result: z.void(),
    handler: async () => undefined,
  }),
  notify_hello: defineMethod({
    name: 'notify_hello',
    summary: 'says hello to a number',
    scope: 'read',
    params: z.object({ value: z.number() }),
    result: z.null(),
    handler: async () => null,
  }),
  get_data: defineMethod({
    name: 'get_data',
    summary: 'returns ["hello", 5]',
    scope: 'read',
    params: z.object({}),
    result: z.tuple([z.string(), z.number()]),
    handler: async () => ['hello', 5],
  }),
  crash: defineMethod({
    name: 'crash',
    summary: 'throws an unexpected error',
    scope: 'read',
    params: z.object({}),
    result: z.never(),
    handler: async () => {
      throw new Error('connect ECONNREFUSED /var/secret/db.sock');
    },
  }),
  greet: defineMethod({
    name: 'greet',
    summary: 'greets someone',
    description: 'Has an optional second param, to compare positional and named calls.',
    scope: 'read',
    params: z.object({ name: z.string().min(1), greeting: z.string().default('Hello') }),
    result: z.string(),
    handler: async ({ name, greeting }) => `${greeting}, ${name}!`,
  }),
  orders_total: defineMethod({
    name: 'orders.total',
    summary: 'sums item prices (nested params, for dotted problem paths)',
    scope: 'read',
    params: z.object({ items: z.array(z.object({ price: z.number().nonnegative() })) }),
    result: z.number(),
    handler: async ({ items }) => items.reduce((s, i) => s + i.price, 0),
  }),
  sync_force: defineMethod({
    name: 'sync.force',
    summary: 'needs the sync scope',
    scope: 'sync',
    params: z.object({ system: z.enum(['iiko', 'wix']) }),
    result: z.object({ started: z.boolean() }),
    handler: async () => ({ started: true }),
  }),
  projects_get: defineMethod({
    name: 'projects.get',
    summary: 'throws AppError NOT_FOUND',
    scope: 'read',
    params: z.object({ id: z.number().int() }),
    result: z.object({ id: z.number() }),
    handler: async ({ id }) => {
      throw AppError.notFound('Project', id);
    },
  }),
  whoami: defineMethod({
    name: 'whoami',
    summary: 'returns the context requestId (to show batch calls share one context)',
    scope: 'read',
    params: z.object({}),
    result: z.string(),
    handler: async (_params, ctx: Ctx) => ctx.requestId,
  }),
};

/**
 * Resolves when `n` calls are waiting at once. A batch run one call after another never
 * gets there, so the first call gives up after a second instead of hanging the test.
 */
function barrier(n: number) {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return async () => {
    if (++waiting === n) release();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('batch items did not run concurrently')), 1000);
    });
    try {
      await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}
let rendezvous = barrier(2);
const rendezvousMethod = defineMethod({
  name: 'rendezvous',
  summary: 'waits until a second call arrives',
  scope: 'read',
  params: z.object({}),
  result: z.literal('met'),
  handler: async () => {
    await rendezvous();
    return 'met' as const;
  },
});

function makeRegistry(order: 'forward' | 'reverse' = 'forward'): MethodRegistry<Ctx> {
  const registry = new MethodRegistry<Ctx>(INFO);
  const defs: AnyMethodDef<Ctx>[] = [...Object.values(methods), rendezvousMethod];
  for (const def of order === 'forward' ? defs : defs.reverse()) registry.add(def);
  return registry;
}

const registry = makeRegistry();
const reader: Principal = { clientId: 1, name: 'odoo', scopes: ['read'] };
const admin: Principal = { clientId: 2, name: 'ops', scopes: ['admin'] };

let contexts = 0;
function contextFor(principal: Principal | null) {
  return (): Ctx => ({ principal, requestId: `req-${++contexts}` });
}

async function call(body: unknown, principal: Principal | null = reader, opts: DispatchOptions = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const out = await dispatch(raw, registry, contextFor(principal), opts);
  return { ...out, json: out.body === null ? null : (JSON.parse(out.body) as any) };
}

/** Every response we send must be classified as a success or an error by a parser we did not write. */
function expectValidResponses(json: unknown) {
  for (const item of Array.isArray(json) ? json : [json]) {
    const parsed = parseObject(item);
    expect(['success', 'error'], JSON.stringify(item)).toContain(String(parsed.type));
    // Exactly one of result / error, and nothing beyond the spec's members.
    const keys = Object.keys(item as object).sort();
    expect([['error', 'id', 'jsonrpc'], ['id', 'jsonrpc', 'result']]).toContainEqual(keys);
  }
}

// ---------------------------------------------------------------------------------------
// The spec's examples, replayed from tests/fixtures/jsonrpc-spec.txt

interface Transcript {
  name: string;
  request: string;
  response: string | null;
}

function loadTranscripts(file: string): Transcript[] {
  const blocks = readFileSync(file, 'utf8').split(/\r?\n\s*\r?\n/);
  const cases: Transcript[] = [];
  for (const block of blocks) {
    const lines = block.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    const requests = lines.filter((l) => l.startsWith('-->'));
    const responses = lines.filter((l) => l.startsWith('<--'));
    if (requests.length === 0) continue; // the header comment
    if (requests.length !== 1 || responses.length > 1) throw new Error(`Malformed fixture block:\n${block}`);
    const name = lines.find((l) => l.startsWith('//'))?.slice(2).trim() ?? requests[0];
    cases.push({ name, request: requests[0].slice(3).trim(), response: responses[0]?.slice(3).trim() ?? null });
  }
  return cases;
}

/** Drops error.data where the expected error has none (the spec makes it optional). */
function normalize(actual: any, expected: any): any {
  if (actual?.error && expected?.error && !('data' in expected.error)) {
    const { data: _ignored, ...error } = actual.error;
    return { ...actual, error };
  }
  return actual;
}

/** Order-insensitive comparison: the spec lets a batch be answered in any order. */
function sortCanonically(items: any[]): any[] {
  return [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

const transcripts = loadTranscripts(join(__dirname, 'fixtures', 'jsonrpc-spec.txt'));

describe('JSON-RPC 2.0 specification examples', () => {
  it('has all 17 rows of the reference table', () => {
    expect(transcripts).toHaveLength(17);
  });

  it.each(transcripts.map((t) => [t.name, t] as const))('%s', async (_name, t) => {
    const out = await dispatch(t.request, registry, contextFor(reader));
    expectTranscript(t, out);
  });
});

/** Checks a dispatch (or HTTP) outcome against one transcript. */
function expectTranscript(t: Transcript, out: { status: number; body: string | null }) {
  if (t.response === null) {
    expect(out).toMatchObject({ body: null, status: 204 });
    return;
  }
  const expected = JSON.parse(t.response);
  const actual = JSON.parse(out.body ?? 'null');
  expect(out.status).toBe(200);
  expect(Array.isArray(actual)).toBe(Array.isArray(expected));
  if (Array.isArray(expected)) {
    // Pair each actual response with an expected one by id before normalizing.
    const paired = (actual as any[]).map((a) => normalize(a, expected.find((e: any) => e.id === a.id)));
    expect(sortCanonically(paired)).toEqual(sortCanonically(expected));
  } else {
    expect(normalize(actual, expected)).toEqual(expected);
  }
  expectValidResponses(actual);
}

// ---------------------------------------------------------------------------------------

describe('params', () => {
  it('gives the same result by position and by name, defaults included', async () => {
    const positional = await call({ jsonrpc: '2.0', method: 'greet', params: ['Ann'], id: 1 });
    const named = await call({ jsonrpc: '2.0', method: 'greet', params: { name: 'Ann' }, id: 1 });
    expect(positional.json).toEqual({ jsonrpc: '2.0', result: 'Hello, Ann!', id: 1 });
    expect(named.json).toEqual(positional.json);

    const both = await call({ jsonrpc: '2.0', method: 'greet', params: ['Ann', 'Hi'], id: 2 });
    const bothNamed = await call({ jsonrpc: '2.0', method: 'greet', params: { greeting: 'Hi', name: 'Ann' }, id: 2 });
    expect(both.json.result).toBe('Hi, Ann!');
    expect(bothNamed.json).toEqual(both.json);
  });

  it('treats a missing params member as {}', async () => {
    expect((await call({ jsonrpc: '2.0', method: 'get_data', id: 1 })).json.result).toEqual(['hello', 5]);
    const missing = await call({ jsonrpc: '2.0', method: 'greet', id: 1 });
    expect(missing.json.error.data.problems).toEqual([{ field: 'name', message: 'required (string)' }]);
  });

  it('names the missing field in -32602 problems', async () => {
    const { json, status } = await call({ jsonrpc: '2.0', method: 'subtract', params: [42], id: 5 });
    expect(status).toBe(200);
    expect(json.error.code).toBe(-32602);
    expect(json.error.data.code).toBe('BAD_USER_INPUT');
    expect(json.error.data.problems).toHaveLength(1);
    expect(json.error.data.problems[0].field).toBe('subtrahend');
    expectValidResponses(json);
  });

  it('names a field of the wrong type', async () => {
    const { json } = await call({ jsonrpc: '2.0', method: 'subtract', params: { minuend: 'x', subtrahend: 1 }, id: 1 });
    expect(json.error.code).toBe(-32602);
    expect(json.error.data.problems).toEqual([{ field: 'minuend', message: expect.stringMatching(/expected number/) }]);
  });

  it('gives nested problems a dotted path', async () => {
    const params = { items: [{ price: 1 }, { price: -2 }, { price: 'x' }] };
    const { json } = await call({ jsonrpc: '2.0', method: 'orders.total', params, id: 1 });
    expect(json.error.data.problems.map((p: { field: string }) => p.field)).toEqual(['items.1.price', 'items.2.price']);
  });

  it('rejects an unknown named key, naming it', async () => {
    const params = { minuend: 1, subtrahend: 2, minued: 3 };
    const { json } = await call({ jsonrpc: '2.0', method: 'subtract', params, id: 1 });
    expect(json.error.code).toBe(-32602);
    expect(json.error.data.problems).toEqual([{ field: 'minued', message: 'unknown parameter' }]);
  });

  it('rejects more positional params than the method has', async () => {
    const { json } = await call({ jsonrpc: '2.0', method: 'subtract', params: [1, 2, 3], id: 1 });
    expect(json.error.code).toBe(-32602);
    expect(json.error.data.problems).toEqual([{ field: '2', message: expect.stringContaining('minuend, subtrahend') }]);
  });
});

describe('envelope', () => {
  it('answers an explicit "id": null, which is a request, not a notification', async () => {
    const { json, status } = await call({ jsonrpc: '2.0', method: 'subtract', params: [3, 1], id: null });
    expect(status).toBe(200);
    // Not cross-checked with jsonrpc-lite: it rejects success responses with a null id,
    // which the spec allows whenever the request's id was null.
    expect(json).toEqual({ jsonrpc: '2.0', result: 2, id: null });
  });

  it.each([
    ['a missing jsonrpc member', { method: 'get_data', id: 1 }, 1],
    ['jsonrpc "1.0"', { jsonrpc: '1.0', method: 'get_data', id: 1 }, 1],
    ['jsonrpc as a number', { jsonrpc: 2.0, method: 'get_data', id: 1 }, 1],
    ['a missing method', { jsonrpc: '2.0', id: 1 }, 1],
    ['params as a string', { jsonrpc: '2.0', method: 'get_data', params: 'x', id: 1 }, 1],
    ['params as null', { jsonrpc: '2.0', method: 'get_data', params: null, id: 1 }, 1],
    ['an object id', { jsonrpc: '2.0', method: 'get_data', id: { a: 1 } }, null],
    ['a boolean id', { jsonrpc: '2.0', method: 'get_data', id: true }, null],
    ['a bare string body', 'hello', null],
    ['a null body', null, null],
  ])('answers %s with -32600', async (_name, request, id) => {
    const { json, status } = await call(JSON.stringify(request));
    expect(status).toBe(200);
    expect(json).toMatchObject({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id });
    expect(typeof json.error.data.reason).toBe('string');
    expectValidResponses(json);
  });

  it('refuses a batch over maxBatch with one -32600 that states the limit', async () => {
    const batch = [1, 2, 3].map((id) => ({ jsonrpc: '2.0', method: 'get_data', id }));
    const { json, status } = await call(batch, reader, { maxBatch: 2 });
    expect(status).toBe(200);
    expect(Array.isArray(json)).toBe(false);
    expect(json.error.code).toBe(-32600);
    expect(json.error.data).toMatchObject({ maxBatch: 2, reason: expect.stringContaining('at most 2') });
    expect((await call(batch.slice(0, 2), reader, { maxBatch: 2 })).json).toHaveLength(2);
  });

  it('runs batch items concurrently', async () => {
    rendezvous = barrier(2);
    const batch = [1, 2].map((id) => ({ jsonrpc: '2.0', method: 'rendezvous', id }));
    const { json } = await call(batch);
    expect(json.map((r: { result: string }) => r.result)).toEqual(['met', 'met']);
  });

  it('builds one context per dispatch, shared by a batch', async () => {
    const batch = [1, 2, 3].map((id) => ({ jsonrpc: '2.0', method: 'whoami', id }));
    const { json } = await call(batch);
    const ids = new Set(json.map((r: { result: string }) => r.result));
    expect(ids.size).toBe(1);
  });

  it('sends result null when a handler returns undefined', async () => {
    const { json } = await call({ jsonrpc: '2.0', method: 'update', params: [1, 2, 3, 4, 5], id: 1 });
    expect(json).toEqual({ jsonrpc: '2.0', result: null, id: 1 });
  });

  it('maps an AppError from a handler to its JSON-RPC code with the details in data', async () => {
    const { json, status } = await call({ jsonrpc: '2.0', method: 'projects.get', params: [7], id: 1 });
    expect(status).toBe(200);
    expect(json.error).toEqual({
      code: JSONRPC_CODE.NOT_FOUND,
      message: 'Project 7 not found',
      data: { code: 'NOT_FOUND', entity: 'Project', key: 7 },
    });
  });

  it('reports -32603 without message or stack, and logs the stack', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const { json } = await call({ jsonrpc: '2.0', method: 'crash', id: 9 }, reader, { logger });
    expect(json.error).toEqual({ code: -32603, message: 'Internal error', data: { requestId: expect.any(String) } });
    expect(JSON.stringify(json)).not.toMatch(/secret|ECONNREFUSED|at /);
    expect(lines).toHaveLength(1);
    const logged = JSON.parse(lines[0]);
    expect(logged.level).toBe(50);
    expect(logged.requestId).toBe(json.error.data.requestId);
    expect(logged.err.stack).toMatch(/ECONNREFUSED[\s\S]*at /);
  });

  it('reports each executed call to onCall, but not unknown methods', async () => {
    const seen: [string, string][] = [];
    const onCall: DispatchOptions['onCall'] = (method, outcome, seconds) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      seen.push([method, outcome]);
    };
    await call(
      [
        { jsonrpc: '2.0', method: 'subtract', params: [1, 1], id: 1 },
        { jsonrpc: '2.0', method: 'subtract', params: [1], id: 2 },
        { jsonrpc: '2.0', method: 'notify_hello', params: [1] },
        { jsonrpc: '2.0', method: 'no.such', id: 3 },
      ],
      reader,
      { onCall },
    );
    expect(seen.sort()).toEqual([
      ['notify_hello', 'ok'],
      ['subtract', 'error'],
      ['subtract', 'ok'],
    ]);
  });
});

describe('scopes', () => {
  it('fails with -32001 (HTTP 401) without a principal, before looking at params', async () => {
    const { json, status } = await call({ jsonrpc: '2.0', method: 'subtract', params: ['not', 'numbers'], id: 1 }, null);
    expect(status).toBe(401);
    expect(json.error).toMatchObject({ code: -32001, data: { code: 'UNAUTHENTICATED' } });
    expectValidResponses(json);
  });

  it('fails with -32003 (HTTP 403) when the principal lacks the scope', async () => {
    const { json, status } = await call({ jsonrpc: '2.0', method: 'sync.force', params: ['iiko'], id: 1 }, reader);
    expect(status).toBe(403);
    expect(json.error).toMatchObject({ code: -32003, data: { code: 'FORBIDDEN', requiredScope: 'sync' } });
    expect((await call({ jsonrpc: '2.0', method: 'sync.force', params: ['iiko'], id: 1 }, admin)).json.result).toEqual({
      started: true,
    });
  });

  it('keeps HTTP 200 for a batch even when every call is refused', async () => {
    const batch = [1, 2].map((id) => ({ jsonrpc: '2.0', method: 'get_data', id }));
    const { json, status } = await call(batch, null);
    expect(status).toBe(200);
    expect(json.map((r: { error: { code: number } }) => r.error.code)).toEqual([-32001, -32001]);
  });
});

// ---------------------------------------------------------------------------------------

describe('registry', () => {
  it('refuses reserved and duplicate names', () => {
    const r = new MethodRegistry<Ctx>(INFO);
    expect(() => r.add({ ...methods.get_data, name: 'rpc.mine' })).toThrow(/reserved/);
    r.add(methods.get_data);
    expect(() => r.add(methods.get_data)).toThrow(/twice/);
  });

  it('serves rpc.discover as a built-in that is not listed as an application method', () => {
    expect(registry.get('rpc.discover')?.scope).toBe('read');
    expect(registry.list().map((m) => m.name)).not.toContain('rpc.discover');
  });
});

describe('OpenRPC document', () => {
  const doc = buildOpenRpcDocument(registry, INFO) as any;

  it('lists every method, sorted by name', () => {
    const names = registry.list().map((m) => m.name);
    expect(doc.openrpc).toBe('1.3.2');
    expect(doc.info).toEqual(INFO);
    expect(doc.methods.map((m: { name: string }) => m.name)).toEqual([...names].sort());
    expect(doc.methods).toHaveLength(Object.keys(methods).length + 1);
  });

  it('gives params in positional order with required flags and JSON Schemas', () => {
    for (const def of registry.list()) {
      const m = doc.methods.find((x: { name: string }) => x.name === def.name);
      expect(m.params.map((p: { name: string }) => p.name)).toEqual(Object.keys(def.params.shape));
      expect(m.paramStructure).toBe('either');
      expect(m['x-scope']).toBe(def.scope);
    }
    const subtract = doc.methods.find((m: { name: string }) => m.name === 'subtract');
    expect(subtract.params).toEqual([
      { name: 'minuend', description: 'the number to subtract from', required: true, schema: { type: 'number', description: 'the number to subtract from' } },
      { name: 'subtrahend', required: true, schema: { type: 'number' } },
    ]);
    expect(subtract.result).toEqual({ name: 'result', schema: { type: 'number' } });
    const greet = doc.methods.find((m: { name: string }) => m.name === 'greet');
    expect(greet.description).toMatch(/optional second param/);
    expect(greet.params.map((p: { required: boolean }) => p.required)).toEqual([true, false]);
  });

  it('lists every application error code', () => {
    for (const code of ERROR_CODES) {
      expect(doc.components.errors[code]).toMatchObject({ code: JSONRPC_CODE[code], message: expect.any(String) });
      if (code !== 'INTERNAL_SERVER_ERROR') expect(doc.components.errors[code].data).toEqual({ code });
    }
  });

  it('is deterministic, whatever order methods were added in', () => {
    const again = JSON.stringify(buildOpenRpcDocument(makeRegistry('reverse'), INFO));
    expect(again).toBe(JSON.stringify(doc));
  });

  it('hoists recursive and id-registered schemas into components.schemas', () => {
    const Tag = z.object({ label: z.string() }).meta({ id: 'TestTag' });
    const Node: z.ZodType<{ name: string; children: unknown[] }> = z.object({
      name: z.string(),
      get children() {
        return z.array(Node);
      },
    });
    const r = new MethodRegistry<Ctx>(INFO).add(
      defineMethod({
        name: 'tree.put',
        summary: 'recursive params',
        scope: 'admin',
        params: z.object({ root: Node, tag: Tag }),
        result: Tag,
        handler: async () => ({ label: 'x' }),
      }),
    );
    const text = JSON.stringify(buildOpenRpcDocument(r, INFO));
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    const parsed = JSON.parse(text);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(parsed.components.schemas[ref], ref).toBeDefined();
    expect(text).not.toContain('#/definitions/');
  });
});

// ---------------------------------------------------------------------------------------
// Over real HTTP

describe('HTTP handler', () => {
  let server: Server;
  let url: string;
  const ran: string[] = [];
  const logLines: string[] = [];
  const BODY_LIMIT = 2048;

  const keys: Record<string, Principal> = { 'Bearer read-key': reader, 'Bearer admin-key': admin };
  const httpRegistry = new MethodRegistry<Ctx>(INFO);
  for (const def of Object.values(methods)) {
    httpRegistry.add({
      ...def,
      handler: (params: any, ctx: Ctx) => {
        ran.push(def.name);
        return (def.handler as (p: unknown, c: Ctx) => Promise<unknown>)(params, ctx);
      },
    });
  }

  beforeAll(async () => {
    const app = express();
    app.all(
      '/jsonrpc',
      jsonRpcHandler({
        registry: httpRegistry,
        authenticate: async (header) => {
          if (header === undefined) return null;
          const principal = keys[header];
          if (!principal) throw AppError.unauthenticated('Unknown or revoked API key');
          return principal;
        },
        makeContext: (_req, principal) => ({ principal, requestId: 'http-1' }),
        bodyLimitBytes: BODY_LIMIT,
        logger: pino({ level: 'error' }, { write: (l: string) => void logLines.push(l) }),
      }),
    );
    server = app.listen(0);
    await new Promise<void>((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jsonrpc`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function post(body: unknown, headers: Record<string, string> = { authorization: 'Bearer read-key' }) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { res, text, json: text ? JSON.parse(text) : null };
  }

  it.each(transcripts.map((t) => [t.name, t] as const))('replays spec example %s over HTTP', async (_name, t) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer read-key' },
      body: t.request,
    });
    const text = await res.text();
    expectTranscript(t, { status: res.status, body: text === '' ? null : text });
  });

  it('answers a call with 200 and application/json', async () => {
    const { res, json } = await post({ jsonrpc: '2.0', method: 'subtract', params: [42, 23], id: 1 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json).toEqual({ jsonrpc: '2.0', result: 19, id: 1 });
  });

  it('reads the body whatever the content type says', async () => {
    const { res, json } = await post('{"jsonrpc":"2.0","method":"subtract","params":[5,2],"id":2}', {
      authorization: 'Bearer read-key',
      'content-type': 'text/plain',
    });
    expect(res.status).toBe(200);
    expect(json.result).toBe(3);
  });

  it('gives 401 with -32001 for a single call without an Authorization header', async () => {
    const { res, json } = await post({ jsonrpc: '2.0', method: 'get_data', id: 1 }, {});
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(json.error.code).toBe(-32001);
    expect(json.id).toBe(1);
  });

  it('gives 403 with -32003 for a single call lacking the scope', async () => {
    const { res, json } = await post({ jsonrpc: '2.0', method: 'sync.force', params: { system: 'wix' }, id: 1 });
    expect(res.status).toBe(403);
    expect(json.error.code).toBe(-32003);
    const asAdmin = await post({ jsonrpc: '2.0', method: 'sync.force', params: { system: 'wix' }, id: 1 }, {
      authorization: 'Bearer admin-key',
    });
    expect(asAdmin.res.status).toBe(200);
  });

  it('refuses an unknown key with 401 and -32001 (id null) before any method runs', async () => {
    ran.length = 0;
    const { res, json } = await post([{ jsonrpc: '2.0', method: 'get_data', id: 1 }], { authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
    expect(json).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Unknown or revoked API key', data: { code: 'UNAUTHENTICATED' } },
      id: null,
    });
    expect(ran).toEqual([]);
  });

  it('gives 413 with a -32600 body over the body limit', async () => {
    const big = { jsonrpc: '2.0', method: 'greet', params: ['x'.repeat(BODY_LIMIT)], id: 1 };
    const { res, json } = await post(big);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json.error.code).toBe(-32600);
    expect(json.error.data.reason).toContain(String(BODY_LIMIT));
    expectValidResponses(json);
  });

  it('gives 204 and an empty body for a batch of notifications', async () => {
    ran.length = 0;
    const { res, text } = await post([
      { jsonrpc: '2.0', method: 'notify_hello', params: [7] },
      { jsonrpc: '2.0', method: 'update', params: [1, 2, 3, 4, 5] },
    ]);
    expect(res.status).toBe(204);
    expect(text).toBe('');
    expect(ran.sort()).toEqual(['notify_hello', 'update']);
  });

  it('keeps 200 for batches and for errors other than -32001/-32003', async () => {
    const batch = await post([{ jsonrpc: '2.0', method: 'get_data', id: 1 }], {});
    expect(batch.res.status).toBe(200);
    expect(batch.json[0].error.code).toBe(-32001);
    const parse = await post('{oops');
    expect(parse.res.status).toBe(200);
    expect(parse.json.error.code).toBe(-32700);
    const empty = await post('');
    expect(empty.json.error.code).toBe(-32700);
  });

  it('answers -32603 without a stack and logs it', async () => {
    logLines.length = 0;
    const { res, text, json } = await post({ jsonrpc: '2.0', method: 'crash', id: 3 });
    expect(res.status).toBe(200);
    expect(json.error).toEqual({ code: -32603, message: 'Internal error', data: { requestId: 'http-1' } });
    expect(text).not.toMatch(/stack|ECONNREFUSED|secret/);
    expect(logLines.some((l) => JSON.parse(l).err?.stack?.includes('ECONNREFUSED'))).toBe(true);
  });

  it('serves rpc.discover with the OpenRPC document', async () => {
    const { res, json } = await post({ jsonrpc: '2.0', method: 'rpc.discover', id: 1 });
    expect(res.status).toBe(200);
    expect(json.result).toEqual(JSON.parse(JSON.stringify(buildOpenRpcDocument(httpRegistry, INFO))));
    expect(json.result.methods.map((m: { name: string }) => m.name)).toContain('subtract');
    const anonymous = await post({ jsonrpc: '2.0', method: 'rpc.discover', id: 1 }, {});
    expect(anonymous.res.status).toBe(401);
  });

  it('answers other HTTP methods with 405 and Allow: POST', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(((await res.json()) as any).error.code).toBe(-32600);
  });
});
