/**
 * Client for the iikoServer API (iiko-wix-allegro.md §1.2–§1.5). One IikoClient per configured
 * server; it holds the keep-alive agent and at most ONE token (= one licence seat) at a time.
 *
 * Sessions: `session(fn)` logs in (or reuses the token this client still holds after a failed
 * logout), runs fn, waits for fn's calls still in flight, and logs out — in every path. Calls to
 * session() on one client are serialised (a per-client mutex), so one client never holds two
 * seats; calling session() from inside fn on the same client is refused (it would wait for
 * itself). Inside a session, calls may run concurrently on the one token. A 401 on a call means
 * the token died (expired, server restart): the session logs in again once (single-flight across
 * the concurrent calls) and repeats that call; a second 401 surfaces as IikoAuthError.
 *
 * Retries (exponential back-off with full jitter, `retries` times) only for the safe cases: 5xx
 * answers, timeouts, connection failures and truncated bodies. A login is the exception: when
 * its outcome is unknown (timeout, reset, truncated answer, a proxy's 502/504) the server may
 * have issued a token that holds a seat, and a blind retry could take a second one — so a login
 * is retried only when the server provably issued nothing (connection refused, or an answer of
 * 500/503); otherwise the error is thrown and the seat frees itself when the token expires.
 * 4xx answers, malformed or hostile XML and contract violations are never retried.
 *
 * Secrets: the password is sent only as its SHA-1 in the body of POST /auth; tokens only in the
 * `key` query parameter. Neither the password, its SHA-1 nor any token appears in a log line or
 * an error message: URLs are logged by path only, and every message is scrubbed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { HttpTransport, Transient, TransportFailure, withRetries } from '../http-transport';
import type { Logger } from '../../logger';
import { IIKO_PATHS, NOT_DELETED_FILTERS, SALES_DATE_FIELD, type OlapRequest } from './contract';
import { IikoAuthError, IikoError, IikoLicenceError, IikoXmlError, isLicenceRefusal, type IikoErrorInit } from './errors';
import { MAX_DEPARTMENTS_XML_BYTES, parseDepartmentsXml, type RawDepartment } from './xml';

export { IikoAuthError, IikoError, IikoLicenceError, IikoXmlError, isLicenceRefusal, type IikoErrorKind, type IikoXmlProblem } from './errors';
export type { RawDepartment } from './xml';

// ---------------------------------------------------------------------------------------------
// Public types

export interface IikoServerConfig {
  /** The configured name (departments.source_server). */
  name: string;
  /**
   * The server: `https://host[:port]`, `…/resto` or `…/resto/api` (all mean the same; the client
   * appends the /resto/api/… paths).
   */
  baseUrl: string;
  login: string;
  password: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Timeout of one OLAP report (default 120 s). */
  olapTimeoutMs?: number;
  /** Retries after the first attempt, for the safe cases only (default 3). */
  retries?: number;
  /** Back-off base: attempt n waits a random time in [0, base·2^(n-1)], capped at 60 s (default 500 ms). */
  retryBaseMs?: number;
  /** Cap of the departments document (default MAX_DEPARTMENTS_XML_BYTES, 50 MB). */
  maxDepartmentsXmlBytes?: number;
  /** Cap of one OLAP answer (default 256 MB). */
  maxOlapBytes?: number;
  /**
   * How the login is sent: 'POST' (default; form body, so the hash never sits in a URL or an
   * access log) or 'GET' (query string, as some older clients do).
   */
  authMethod?: 'POST' | 'GET';
  /** Add the DeletedWithWriteoff/OrderDeleted = NOT_DELETED filters to sales reports (default true). */
  excludeDeleted?: boolean;
  /** A token kept after a failed logout is reused only this long after its last use (default 20 min). */
  tokenReuseMs?: number;
  /** Sockets per host in the keep-alive agent (default 4). */
  maxSockets?: number;
}

export interface IikoSession {
  /** GET /corporation/departments: every item, in document order. */
  departments(): Promise<RawDepartment[]>;
  /**
   * One accounting day [day, day+1) of SALES, one row per (department, dish). `signal` aborts
   * the report request (it may run for minutes upstream) with TransportFailure kind 'aborted'.
   */
  sales(day: string, opts?: { signal?: AbortSignal }): Promise<IikoSalesRow[]>;
}

export interface IikoSalesRow {
  /** YYYY-MM-DD, the accounting day (OpenDate.Typed). */
  date: string;
  /** Department GUID, lower-case. */
  departmentId: string;
  /** Dish GUID, lower-case. */
  dishId: string;
  dishCode: string | null;
  dishName: string | null;
  /** DishAmountInt (signed: refunds may make it negative; fractional for dishes sold by weight). */
  quantity: number;
  /** Math.round(DishSumInt * 100): kopecks before discount. */
  amountMinor: number;
}

export interface IikoClientStats {
  /** Tokens obtained (re-logins after a 401 included). */
  logins: number;
  /** Tokens released by a successful logout. */
  logouts: number;
  /** HTTP requests sent, retries included. */
  requests: number;
  retries: number;
}

// ---------------------------------------------------------------------------------------------
// Internals

type Op = 'login' | 'logout' | 'departments' | 'sales';

interface Call {
  op: Op;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  form?: Record<string, string>;
  json?: unknown;
  timeoutMs: number;
  maxBytes: number;
  /** Aborts the request (and its retries): the job was cancelled or is stopping. */
  signal?: AbortSignal;
}

const MAX_TOKEN_BYTES = 4096;
const MAX_ERROR_TEXT = 300;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** `https://h`, `https://h/resto`, `https://h/resto/api` → `https://h` (paths are appended). */
function serverRoot(baseUrl: string): string {
  const u = new URL(baseUrl.trim());
  u.search = '';
  u.hash = '';
  const path = u.pathname.replace(/\/+$/, '').replace(/\/resto(\/api)?$/i, '');
  return `${u.origin}${path}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function normalizeGuid(v: string): string {
  return v.trim().replace(/^\{|\}$/g, '').toLowerCase();
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function validDay(day: string): boolean {
  if (!DATE_RE.test(day)) return false;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day;
}

/** Per-session bookkeeping: whether fn is still running, and its calls in flight. */
interface SessionCtx {
  client: IikoClient;
  active: boolean;
  inflight: Set<Promise<unknown>>;
}

const currentSession = new AsyncLocalStorage<SessionCtx>();

// ---------------------------------------------------------------------------------------------
// Client

export class IikoClient {
  readonly name: string;
  private readonly root: string;
  private readonly cfg: Required<Omit<IikoServerConfig, 'name' | 'baseUrl' | 'login' | 'password'>>;
  private readonly login: string;
  private readonly password: string;
  private readonly passHash: string;
  private readonly logger?: Logger;
  private readonly http: HttpTransport;
  private readonly counters: IikoClientStats = { logins: 0, logouts: 0, requests: 0, retries: 0 };
  /** Tokens this client obtained and has not seen die: scrubbed from every message. */
  private readonly secrets = new Set<string>();
  /** The token this client holds (at most one). */
  private token: { value: string; lastUsedAt: number } | null = null;
  /** Single-flight re-login after a 401. */
  private relogin: Promise<string> | null = null;
  /** The session mutex: the tail of the queue. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(server: IikoServerConfig, opts: { logger?: Logger } = {}) {
    this.name = server.name;
    this.root = serverRoot(server.baseUrl);
    this.login = server.login;
    this.password = server.password;
    this.passHash = createHash('sha1').update(server.password, 'utf8').digest('hex');
    this.cfg = {
      timeoutMs: server.timeoutMs ?? 30_000,
      olapTimeoutMs: server.olapTimeoutMs ?? 120_000,
      retries: server.retries ?? 3,
      retryBaseMs: server.retryBaseMs ?? 500,
      maxDepartmentsXmlBytes: server.maxDepartmentsXmlBytes ?? MAX_DEPARTMENTS_XML_BYTES,
      maxOlapBytes: server.maxOlapBytes ?? 256 * 1024 * 1024,
      authMethod: server.authMethod ?? 'POST',
      excludeDeleted: server.excludeDeleted ?? true,
      tokenReuseMs: server.tokenReuseMs ?? 20 * 60_000,
      maxSockets: server.maxSockets ?? 4,
    };
    this.logger = opts.logger;
    this.http = new HttpTransport({ maxSockets: this.cfg.maxSockets });
  }

  /**
   * Runs fn holding one token: logs in (or reuses a still-valid token held by this client), and
   * logs out when fn ends, in every path (after fn's calls still in flight have settled). Calls
   * for the same client are serialised, so one client never holds two seats. A 401 mid-call
   * re-authenticates once and retries that call.
   */
  session<T>(fn: (s: IikoSession) => Promise<T>): Promise<T> {
    const outer = currentSession.getStore();
    if (outer?.client === this && outer.active) {
      return Promise.reject(new Error(`iiko ${this.name}: session() called inside a session of the same client (it would wait for itself); use the session you have`));
    }
    if (this.closed) return Promise.reject(new IikoError(this.name, 'login', `iiko ${this.name}: the client is closed`, { kind: 'network' }));
    const run = this.queue.then(() => this.runSession(fn));
    this.queue = run.catch(() => undefined);
    return run;
  }

  stats(): IikoClientStats {
    return { ...this.counters };
  }

  /**
   * Destroys the keep-alive agent. A token still held (its logout failed) gets one last
   * best-effort logout first; open sessions should have ended before.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const destroy = () => {
      this.http.destroy();
    };
    if (this.token) void this.release().finally(destroy);
    else destroy();
  }

  // -------------------------------------------------------------------------------------------
  // Sessions and tokens

  private async runSession<T>(fn: (s: IikoSession) => Promise<T>): Promise<T> {
    const ctx: SessionCtx = { client: this, active: true, inflight: new Set() };
    try {
      await this.acquire();
      return await currentSession.run(ctx, () => fn(new Session(this, ctx)));
    } finally {
      ctx.active = false;
      // Never log out under a running request: let fn's stragglers settle (each has a timeout).
      while (ctx.inflight.size) await Promise.allSettled([...ctx.inflight]);
      await this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.token && Date.now() - this.token.lastUsedAt < this.cfg.tokenReuseMs) {
      this.logger?.debug({ server: this.name }, 'iiko: reusing the token kept after a failed logout');
      return;
    }
    if (this.token) this.forget(this.token.value); // too old: the server has expired it (its seat is free)
    await this.obtainToken();
  }

  private async obtainToken(): Promise<string> {
    const form = { login: this.login, pass: this.passHash };
    const call: Call = {
      op: 'login',
      method: this.cfg.authMethod,
      path: IIKO_PATHS.auth,
      ...(this.cfg.authMethod === 'POST' ? { form } : { query: form }),
      timeoutMs: this.cfg.timeoutMs,
      maxBytes: MAX_TOKEN_BYTES,
    };
    const { buf } = await this.call(call);
    const value = buf.toString('utf8').trim();
    if (!value || value.length > 512 || /\s/.test(value)) {
      throw new IikoError(this.name, 'login', `iiko ${this.name} login: the answer is not a token (${value ? 'unexpected text' : 'empty body'})`, { status: 200, kind: 'contract' });
    }
    this.secrets.add(value);
    this.token = { value, lastUsedAt: Date.now() };
    this.counters.logins++;
    this.logger?.debug({ server: this.name }, 'iiko: logged in');
    return value;
  }

  /** Logs the held token out. Never throws: on failure the token is kept for reuse (warned). */
  private async release(): Promise<void> {
    const held = this.token;
    if (!held) return;
    try {
      await this.call({ op: 'logout', method: 'GET', path: IIKO_PATHS.logout, query: { key: held.value }, timeoutMs: this.cfg.timeoutMs, maxBytes: 64 * 1024 });
      this.counters.logouts++;
      this.forget(held.value);
      this.logger?.debug({ server: this.name }, 'iiko: logged out');
    } catch (e) {
      if (e instanceof IikoAuthError) {
        this.forget(held.value); // already gone (expired): the seat is free
        return;
      }
      const err = e as IikoError;
      this.logger?.warn(
        { server: this.name, op: 'logout', status: err.status, kind: err.kind },
        this.scrub(`iiko ${this.name}: logout failed; the token is kept and reused or released by the next session (or expires): ${err.message}`),
      );
    }
  }

  private forget(token: string): void {
    if (this.token?.value === token) this.token = null;
    this.secrets.delete(token);
  }

  /** The token a call uses (a fresh one when a re-login is under way). */
  private async currentToken(): Promise<string> {
    if (this.relogin) return this.relogin;
    if (!this.token) return this.reauth(null);
    return this.token.value;
  }

  /** After a 401 with `dead`: join or start the single re-login. */
  private reauth(dead: string | null): Promise<string> {
    if (this.token && this.token.value !== dead) return Promise.resolve(this.token.value);
    if (!this.relogin) {
      if (this.token) this.forget(this.token.value); // the server says it is dead: its seat is free
      this.logger?.info({ server: this.name }, 'iiko: token rejected (401) mid-session; logging in again');
      this.relogin = this.obtainToken().finally(() => {
        this.relogin = null;
      });
    }
    return this.relogin;
  }

  /** @internal One session call with the token; re-authenticates once on a 401. */
  async authed(ctx: SessionCtx, op: Op, make: (token: string) => Call): Promise<Buffer> {
    if (!ctx.active) throw new IikoError(this.name, op, `iiko ${this.name} ${op}: the session has ended`, { kind: 'network' });
    const run = (async () => {
      const t1 = await this.currentToken();
      try {
        return (await this.call(make(t1))).buf;
      } catch (e) {
        if (!(e instanceof IikoAuthError)) throw e;
        const t2 = await this.reauth(t1);
        return (await this.call(make(t2))).buf;
      } finally {
        if (this.token) this.token.lastUsedAt = Date.now();
      }
    })();
    ctx.inflight.add(run);
    try {
      return await run;
    } finally {
      ctx.inflight.delete(run);
    }
  }

  /** @internal */
  get config() {
    return this.cfg;
  }

  /** @internal */
  warn(obj: Record<string, unknown>, msg: string): void {
    this.logger?.warn({ server: this.name, ...obj }, this.scrub(msg));
  }

  /** Removes the password, its SHA-1 and every token from a text. */
  private scrub(text: string): string {
    let out = text;
    const cut = (s: string) => {
      if (s.length >= 4) out = out.split(s).join('***');
    };
    cut(this.password);
    cut(this.passHash);
    cut(this.passHash.toUpperCase());
    for (const t of this.secrets) cut(t);
    return out.replace(/([?&](?:key|pass|password)=)[^&\s"']*/gi, '$1***');
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  /** One operation with the retry policy; resolves with a 2xx body. */
  private async call(c: Call): Promise<{ status: number; buf: Buffer }> {
    return withRetries<{ status: number; buf: Buffer }, IikoError>(
      { retries: this.cfg.retries, baseMs: this.cfg.retryBaseMs, isLogin: c.op === 'login', logger: this.logger, context: { server: this.name, op: c.op }, onRetry: () => this.counters.retries++, signal: c.signal },
      (attempt) => this.once(c, attempt),
    );
  }

  private async once(c: Call, attempt: number): Promise<{ status: number; buf: Buffer }> {
    if (this.closed && c.op !== 'logout') throw new IikoError(this.name, c.op, `iiko ${this.name} ${c.op}: the client is closed`, { kind: 'network', attempts: attempt });
    const url = new URL(this.root + c.path);
    for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Accept: c.op === 'departments' ? 'application/xml, text/xml, */*' : c.op === 'sales' ? 'application/json' : 'text/plain, */*' };
    let body: string | undefined;
    if (c.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(c.form).toString();
    } else if (c.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(c.json);
    }
    const started = Date.now();
    this.counters.requests++;
    const fail = (message: string, init: IikoErrorInit): IikoError =>
      new IikoError(this.name, c.op, this.scrub(`iiko ${this.name} ${c.op}: ${message}`), { ...init, attempts: attempt });

    let status: number;
    let buf: Buffer;
    try {
      ({ status, body: buf } = await this.http.send({ url: url.toString(), method: c.method, headers, body, timeoutMs: c.timeoutMs, maxBytes: c.maxBytes, signal: c.signal }));
    } catch (e) {
      if (!(e instanceof TransportFailure)) throw e;
      if (e.kind === 'aborted') throw e; // the caller stopped: not a failure of the server, never retried
      if (e.kind === 'too-large') throw this.tooLarge(c, e.status, attempt, e.message);
      throw new Transient(fail(e.message, { status: e.status, kind: e.kind === 'timeout' ? 'timeout' : 'network' }), e.notSent ? 'no' : 'unknown');
    }
    this.logger?.debug({ server: this.name, op: c.op, method: c.method, path: url.pathname, status, ms: Date.now() - started, bytes: buf.length, attempt }, 'iiko request');

    if (status >= 200 && status < 300) return { status, buf };

    // Errors come as plain text (or a proxy's HTML page): keep the start of it, scrubbed.
    const raw = buf.toString('utf8');
    const textPart = raw.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_TEXT);
    const message = `${status}${textPart ? ` ${textPart}` : ''}`;
    if (c.op === 'login' && isLicenceRefusal(status, raw)) {
      throw new IikoLicenceError(this.name, c.op, this.scrub(`iiko ${this.name} login: no free licence seat: ${message}`), { status, attempts: attempt });
    }
    if (status >= 500) {
      // For a login only 500/503 prove that no token was issued; a gateway's 502/504 does not.
      throw new Transient(fail(message, { status, kind: 'http' }), status === 500 || status === 503 ? 'no' : 'unknown');
    }
    if (status === 408) throw new Transient(fail(message, { status, kind: 'timeout' }), 'unknown');
    if (status === 401) {
      const what = c.op === 'login' ? 'wrong login or password' : 'token rejected';
      throw new IikoAuthError(this.name, c.op, this.scrub(`iiko ${this.name} ${c.op}: ${what}: ${message}`), { status, attempts: attempt });
    }
    throw fail(message, { status, kind: 'http' });
  }

  private tooLarge(c: Call, status: number, attempt: number, detail: string): IikoError {
    if (c.op === 'departments') {
      return new IikoXmlError('too_large', `iiko ${this.name} departments: the XML is larger than ${c.maxBytes} bytes (${detail})`, { server: this.name, op: c.op, status });
    }
    return new IikoError(this.name, c.op, `iiko ${this.name} ${c.op}: the answer is larger than ${c.maxBytes} bytes (${detail})`, { status, kind: 'contract', attempts: attempt });
  }
}

// ---------------------------------------------------------------------------------------------
// Session

class Session implements IikoSession {
  constructor(
    private readonly client: IikoClient,
    private readonly ctx: SessionCtx,
  ) {}

  async departments(): Promise<RawDepartment[]> {
    const cfg = this.client.config;
    const buf = await this.client.authed(this.ctx, 'departments', (key) => ({
      op: 'departments',
      method: 'GET',
      path: IIKO_PATHS.departments,
      query: { key },
      timeoutMs: cfg.timeoutMs,
      maxBytes: cfg.maxDepartmentsXmlBytes,
    }));
    try {
      return parseDepartmentsXml(buf, { maxBytes: cfg.maxDepartmentsXmlBytes });
    } catch (e) {
      if (e instanceof IikoXmlError) {
        throw new IikoXmlError(e.problem, `iiko ${this.client.name} departments: ${e.message}`, { server: this.client.name, op: 'departments', status: 200 });
      }
      throw e;
    }
  }

  async sales(day: string, opts: { signal?: AbortSignal } = {}): Promise<IikoSalesRow[]> {
    const name = this.client.name;
    if (!validDay(day)) throw new IikoError(name, 'sales', `iiko ${name} sales: ${JSON.stringify(day)} is not a YYYY-MM-DD day`, { kind: 'contract' });
    const cfg = this.client.config;
    const request: OlapRequest = {
      reportType: 'SALES',
      buildSummary: false,
      groupByRowFields: [SALES_DATE_FIELD, 'Department.Id', 'DishId', 'DishCode', 'DishName'],
      groupByColFields: [],
      aggregateFields: ['DishAmountInt', 'DishSumInt'],
      filters: {
        [SALES_DATE_FIELD]: { filterType: 'DateRange', periodType: 'CUSTOM', from: day, to: nextDay(day), includeLow: true, includeHigh: false },
        ...(cfg.excludeDeleted ? NOT_DELETED_FILTERS : {}),
      },
    };
    const buf = await this.client.authed(this.ctx, 'sales', (key) => ({
      op: 'sales',
      method: 'POST',
      path: IIKO_PATHS.olap,
      query: { key },
      json: request,
      timeoutMs: cfg.olapTimeoutMs,
      maxBytes: cfg.maxOlapBytes,
      signal: opts.signal,
    }));
    const contract = (what: string) => new IikoError(name, 'sales', `iiko ${name} sales ${day}: unexpected answer: ${what}`, { status: 200, kind: 'contract' });
    let doc: unknown;
    try {
      doc = JSON.parse(buf.toString('utf8'));
    } catch {
      throw contract(`not JSON (${buf.length} bytes)`);
    }
    if (!isObject(doc) || !Array.isArray(doc.data)) throw contract('no data array');
    const out: IikoSalesRow[] = [];
    let skipped = 0;
    const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null);
    const num = (v: unknown, field: string): number => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : v === null || v === undefined ? 0 : NaN;
      if (!Number.isFinite(n)) throw contract(`${field} is not a number`);
      return n;
    };
    for (const row of doc.data as unknown[]) {
      if (!isObject(row)) throw contract('a row is not an object');
      const date = str(row[SALES_DATE_FIELD]);
      if (date === null || date.slice(0, 10) !== day) throw contract(`a row of another day (${String(date).slice(0, 30)})`);
      const departmentId = str(row['Department.Id']);
      const dishId = str(row.DishId);
      if (departmentId === null || dishId === null) {
        skipped++;
        continue;
      }
      out.push({
        date: day,
        departmentId: normalizeGuid(departmentId),
        dishId: normalizeGuid(dishId),
        dishCode: str(row.DishCode),
        dishName: str(row.DishName),
        quantity: num(row.DishAmountInt, 'DishAmountInt'),
        amountMinor: Math.round(num(row.DishSumInt, 'DishSumInt') * 100),
      });
    }
    if (skipped) this.client.warn({ op: 'sales', day, skipped }, `iiko ${name} sales ${day}: ${skipped} row(s) without a department or dish id skipped`);
    return out;
  }
}
