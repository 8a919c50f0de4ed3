/**
 * Client for the Logikal REST API (logikal.md §a/§b). One LogikalClient per Logikal server holds
 * the keep-alive agent every session reuses; a LogikalSession wraps one server-side session and
 * mirrors its context state machine (directory → project → phase → elevation, never back up).
 *
 * Errors:
 * - WrongStateError (405, 409 and local "would need going up"): never retried as-is; recover with
 *   a new session.
 * - LogikalAuthError (401): unknown/expired token (or bad credentials on login).
 * - LicenceLimitError: a login refused for want of a licence seat (see isLicenceLimitResponse).
 * - LogikalError otherwise (400/403/404, contract violations, exhausted retries).
 *
 * Retries (exponential back-off with jitter, `retries` times) only for the safe cases: 5xx
 * answers, timeouts, truncated or unparseable bodies and connection failures. POST /auth is the
 * exception: a login whose outcome is unknown (timeout, connection reset, truncated answer) may
 * have created a session that holds a licence seat, and a blind retry could leak a second one —
 * so a login is retried only when the server provably did not create a session (an answer of
 * 500/503, or the connection was refused); otherwise the error is thrown (kind 'timeout' /
 * 'network' / 'invalid-body') and the caller decides. A leaked seat frees itself when the
 * server expires the session.
 *
 * Selects are retried too: after an unknown outcome the retry may find the session already moved
 * and get 405/409, which surfaces as WrongStateError → new session, which is the correct recovery.
 *
 * Secrets: the password and session tokens are sent only in the body of POST /auth and in the
 * Authorization header; they never appear in log lines or error messages (messages are scrubbed).
 */
import { Transient, TransportFailure, withRetries } from '../http-transport';
import { HttpTransport } from '../http-transport';
import { PartsListError, parsePartsList, partsListHash, type ParsedPartsList, type PartsListProblem } from './parts-list';
import { partsListPool, warmPartsListWorkers, type OffloadAnswer } from './parts-list-offload';
import type { Logger } from '../../logger';
import {
  type DirectoryData,
  type ElevationData,
  type PhaseData,
  type ProgramInformationData,
  type ProjectData,
  type SessionData,
  type ThumbnailFormat,
  type ThumbnailView,
} from './contract';

// ---------------------------------------------------------------------------------------------
// Errors

export type LogikalErrorKind = 'http' | 'timeout' | 'network' | 'invalid-body' | 'contract' | 'local';

export class LogikalError extends Error {
  /** HTTP status; 0 when no answer was received (timeout, network) or the error is local. */
  readonly status: number;
  /** `code` of the error envelope, when there was one. */
  readonly code?: number;
  /** `errors` of the error envelope (the reason is in errors[0]). */
  readonly errors: string[];
  /** The operation, e.g. 'login', 'selectProject', 'partsList'. */
  readonly op: string;
  readonly kind: LogikalErrorKind;
  /** Requests made for this operation, retries included. */
  readonly attempts: number;

  constructor(
    op: string,
    message: string,
    init: { status?: number; code?: number; errors?: string[]; kind?: LogikalErrorKind; attempts?: number; cause?: unknown } = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'LogikalError';
    this.op = op;
    this.status = init.status ?? 0;
    this.code = init.code;
    this.errors = init.errors ?? [];
    this.kind = init.kind ?? 'http';
    this.attempts = init.attempts ?? 1;
  }
}

/** 405, 409, or a local move that would need going up: recover with a new session, never retry as-is. */
export class WrongStateError extends LogikalError {
  constructor(...args: ConstructorParameters<typeof LogikalError>) {
    super(...args);
    this.name = 'WrongStateError';
  }
}

/** 401: unknown or expired session token; on login: wrong username or password. */
export class LogikalAuthError extends LogikalError {
  constructor(...args: ConstructorParameters<typeof LogikalError>) {
    super(...args);
    this.name = 'LogikalAuthError';
  }
}

/** A login refused because every licence seat / API session is in use. */
export class LicenceLimitError extends LogikalError {
  constructor(...args: ConstructorParameters<typeof LogikalError>) {
    super(...args);
    this.name = 'LicenceLimitError';
  }
}

/**
 * Does this error answer mean "no free licence seat"? The ONLY place that knows. It matches the
 * simulator's refusal (409 on POST /auth, errors ["No free licence available: n of n API sessions
 * in use."]); a real server's answer has never been observed — adjust here once it is.
 */
export function isLicenceLimitResponse(op: string, status: number, reasons: string[]): boolean {
  if (op !== 'login') return false;
  if (status !== 409 && status !== 403 && status !== 429) return false;
  return status === 429 || reasons.some((r) => /licen[cs]e|sessions? in use|too many sessions|seat/i.test(r));
}

// ---------------------------------------------------------------------------------------------
// Options

export interface LogikalClientOptions {
  /** e.g. https://logikal.example.com/api/v3 */
  baseUrl: string;
  username: string;
  password: string;
  /** The undocumented `erp` login flag; both real clients sent true (default true). */
  erp?: boolean;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Timeout of the parts-list download (default 60 s). */
  partsListTimeoutMs?: number;
  /** Retries after the first attempt, for the safe cases only (default 3). */
  retries?: number;
  /** Back-off base: attempt n waits base·2^(n-1), half of it jittered (default 200 ms). */
  retryBaseMs?: number;
  /** Sockets per host in the keep-alive agent (default 16). */
  maxSockets?: number;
  /**
   * Let partsListFile() download and parse on the worker pool (parts-list-offload.ts) when the
   * process has one, and start its workers now so that the first sync does not wait for them
   * (default true). Off: everything runs in the calling thread.
   */
  offloadPartsLists?: boolean;
  logger?: Logger;
}

export interface ClientStats {
  sessionsOpened: number;
  sessionsClosed: number;
  /** HTTP requests sent, retries included. */
  requests: number;
  retries: number;
}

export type SessionState = 'directory' | 'project' | 'phase' | 'elevation' | 'closed';

export interface SessionLocation {
  /** '' = the root of the project centre (where a fresh session starts). */
  directoryPath: string | null;
  projectId: string | null;
  phaseId: string | null;
  elevationId: string | null;
}

export interface ThumbnailOptions {
  /** Pixels (default 300). */
  width?: number;
  /** Pixels (default 300). */
  height?: number;
  /** Default 'PNG'. */
  format?: ThumbnailFormat;
  /** Default 'Interior'. */
  view?: ThumbnailView;
  /** Default true. */
  withDimensions?: boolean;
  /** Default false. */
  withDescription?: boolean;
}

export interface NavigationTarget {
  /** '' = the root of the project centre. */
  directoryPath: string;
  projectId: string;
  phaseId?: string;
  elevationId?: string;
}

// ---------------------------------------------------------------------------------------------
// Internals

/**
 * What a call's 2xx body is: a JSON envelope's `data`, an envelope without data, raw bytes,
 * or the envelope's raw bytes (parsed by the caller: the parts list is megabytes of base64
 * that a general JSON.parse would copy twice).
 */
type Expect = 'data' | 'empty' | 'binary' | 'raw-envelope';

interface Call<T> {
  op: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  token?: string;
  body?: unknown;
  query?: Record<string, string>;
  expect: Expect;
  timeoutMs?: number;
  /** Checks `data` (JSON) and returns it typed; throws a contract error otherwise. */
  validate?: (data: unknown) => T;
  /**
   * Parts list only: download and process the file (processPartsList) on the worker pool when
   * there is one; `validate` then gets the worker's PartsListFile instead of the raw body.
   */
  offload?: PartsListParseOptions;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function normalizeId(id: string): string {
  return id.trim().replace(/^\{|\}$/g, '').toLowerCase();
}

function isAncestorOrSelf(a: string, b: string): boolean {
  return a === '' || a === b || b.startsWith(`${a}/`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function contract(op: string, what: string): LogikalError {
  return new LogikalError(op, `Logikal ${op}: unexpected answer: ${what}`, { status: 200, kind: 'contract' });
}

function arrayOf<T>(op: string, check: (v: Record<string, unknown>) => boolean, what: string): (d: unknown) => T[] {
  return (d) => {
    if (!Array.isArray(d)) throw contract(op, `data is not an array of ${what}`);
    for (const v of d) if (!isObject(v) || !check(v)) throw contract(op, `data holds something that is not a ${what}`);
    return d as T[];
  };
}

const hasId = (v: Record<string, unknown>) => typeof v.id === 'string' && typeof v.name === 'string';

// ---------------------------------------------------------------------------------------------
// Client

export class LogikalClient {
  private readonly baseUrl: string;
  private readonly opts: Required<Omit<LogikalClientOptions, 'logger' | 'maxSockets'>> & { maxSockets: number };
  /** @internal whether partsListFile() may use the worker pool */
  readonly offloadPartsLists: boolean;
  private readonly logger?: Logger;
  private readonly http: HttpTransport;
  private readonly counters: ClientStats = { sessionsOpened: 0, sessionsClosed: 0, requests: 0, retries: 0 };
  /** Tokens of sessions this client opened: scrubbed from every message. */
  private readonly secrets = new Set<string>();

  constructor(opts: LogikalClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.opts = {
      baseUrl: this.baseUrl,
      username: opts.username,
      password: opts.password,
      erp: opts.erp ?? true,
      timeoutMs: opts.timeoutMs ?? 30_000,
      partsListTimeoutMs: opts.partsListTimeoutMs ?? 60_000,
      retries: opts.retries ?? 3,
      retryBaseMs: opts.retryBaseMs ?? 200,
      maxSockets: opts.maxSockets ?? 16,
      offloadPartsLists: opts.offloadPartsLists ?? true,
    };
    this.offloadPartsLists = this.opts.offloadPartsLists;
    if (this.offloadPartsLists) warmPartsListWorkers();
    this.logger = opts.logger;
    this.http = new HttpTransport({ maxSockets: this.opts.maxSockets });
  }

  /** GET /version — unauthenticated, cheap: a connectivity probe. */
  async version(): Promise<ProgramInformationData> {
    return this.call<ProgramInformationData>({
      op: 'version',
      method: 'GET',
      path: '/version',
      expect: 'data',
      validate: (d) => {
        if (!isObject(d) || !Array.isArray(d.componentVersions)) throw contract('version', 'no componentVersions');
        return d as unknown as ProgramInformationData;
      },
    });
  }

  /** POST /auth: a new session at the root of the project centre. */
  async openSession(): Promise<LogikalSession> {
    const data = await this.call<SessionData>({
      op: 'login',
      method: 'POST',
      path: '/auth',
      body: { username: this.opts.username, password: this.opts.password, erp: this.opts.erp },
      expect: 'data',
      validate: (d) => {
        if (!isObject(d) || typeof d.token !== 'string' || d.token.trim() === '') throw contract('login', 'no session token');
        return d as unknown as SessionData;
      },
    });
    this.secrets.add(data.token);
    this.counters.sessionsOpened++;
    this.logger?.debug({ op: 'login' }, 'logikal session opened');
    return new LogikalSession(this, data.token);
  }

  /** Runs fn in a fresh session and always logs it out afterwards, also when fn throws. */
  async withSession<T>(fn: (s: LogikalSession) => Promise<T>): Promise<T> {
    const s = await this.openSession();
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  }

  stats(): ClientStats {
    return { ...this.counters };
  }

  /** Destroys the keep-alive agents (open sessions are not logged out: close them first). */
  close(): void {
    this.http.destroy();
  }

  /** @internal used by LogikalSession once its logout has finished (or failed). */
  sessionClosed(token: string): void {
    this.counters.sessionsClosed++;
    this.secrets.delete(token);
  }

  /** @internal */
  get partsListTimeoutMs(): number {
    return this.opts.partsListTimeoutMs;
  }

  /** @internal */
  warn(obj: Record<string, unknown>, msg: string): void {
    this.logger?.warn(obj, this.scrub(msg));
  }

  /** @internal Removes the password and any session token from a text. */
  scrub(text: string): string {
    let out = text;
    if (this.opts.password.length >= 3) out = out.split(this.opts.password).join('***');
    for (const t of this.secrets) out = out.split(t).join('***');
    return out.replace(/(Bearer\s+)\S+/gi, '$1***');
  }

  /** @internal One operation with the retry policy. */
  async call<T>(c: Call<T>): Promise<T> {
    return withRetries<T, LogikalError>(
      { retries: this.opts.retries, baseMs: this.opts.retryBaseMs, isLogin: c.op === 'login', logger: this.logger, context: { integration: 'logikal', op: c.op }, onRetry: () => this.counters.retries++ },
      (attempt) => this.once(c, attempt),
    );
  }

  private async once<T>(c: Call<T>, attempt: number): Promise<T> {
    const url = new URL(this.baseUrl + c.path);
    for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Accept: c.expect === 'binary' ? 'application/octet-stream, image/*, */*' : 'application/json' };
    if (c.token) headers.Authorization = `Bearer ${c.token}`;
    let body: string | undefined;
    if (c.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(c.body);
    }
    const timeoutMs = c.timeoutMs ?? this.opts.timeoutMs;
    const started = Date.now();
    this.counters.requests++;
    const fail = (message: string, init: ConstructorParameters<typeof LogikalError>[2]) =>
      new LogikalError(c.op, this.scrub(`Logikal ${c.op}: ${message}`), { ...init, attempts: attempt });

    let status: number;
    let buf: Buffer;
    let contentType: string;
    /** What the worker pool made of a 2xx parts list (then `buf` is empty). */
    let offloaded: PartsListFile | { invalid: { message: string; contract: boolean } } | undefined;
    let bytes: number;
    const pool = c.offload && c.method === 'GET' && this.offloadPartsLists ? partsListPool() : null;
    try {
      if (pool) {
        let a: OffloadAnswer;
        try {
          a = await pool.run({ url: url.toString(), headers, timeoutMs, maxBytes: MAX_BODY_BYTES, parse: c.offload! });
        } catch (e) {
          // The worker died: a network failure for the retry policy (the retry runs in-thread).
          throw new TransportFailure('network', `parts-list worker failed (${(e as Error).message})`, 0, false, e);
        }
        if (a.type === 'failure') throw new TransportFailure(a.kind, a.message, a.status, a.notSent);
        ({ status, contentType, bytes } = a);
        buf = a.body ? Buffer.from(a.body.buffer, a.body.byteOffset, a.body.byteLength) : Buffer.alloc(0);
        offloaded = a.file ?? (a.invalid ? { invalid: a.invalid } : undefined);
      } else {
        ({ status, body: buf, contentType } = await this.http.send({
          url: url.toString(), method: c.method, headers, body, timeoutMs, maxBytes: MAX_BODY_BYTES,
        }));
        bytes = buf.length;
      }
    } catch (e) {
      if (!(e instanceof TransportFailure)) throw e;
      const kind = e.kind === 'timeout' ? 'timeout' : e.kind === 'network' || e.kind === 'too-large' ? 'network' : 'invalid-body';
      throw new Transient(fail(e.message, { status: e.status, kind, cause: e }), e.notSent ? 'no' : 'unknown');
    }
    this.logger?.debug({ op: c.op, method: c.method, path: url.pathname, status, ms: Date.now() - started, bytes, attempt, offloaded: Boolean(pool) }, 'logikal request');

    if (status >= 200 && status < 300) {
      if (c.expect === 'binary') {
        if (buf.length === 0) throw new Transient(fail('empty binary answer', { status, kind: 'invalid-body' }), 'unknown');
        return buf as unknown as T;
      }
      if (c.expect === 'raw-envelope') {
        try {
          if (offloaded && 'invalid' in offloaded) {
            if (offloaded.invalid.contract) throw contract(c.op, offloaded.invalid.message.replace(/^Logikal \w+: unexpected answer: /, ''));
            throw new Error(offloaded.invalid.message);
          }
          const input = offloaded ?? buf;
          return c.validate ? c.validate(input) : (input as unknown as T);
        } catch (e) {
          if (e instanceof LogikalError) throw e;
          throw new Transient(fail(`answer is not a data envelope (${(e as Error).message})`, { status, kind: 'invalid-body', cause: e }), 'unknown');
        }
      }
      let env: unknown;
      try {
        env = JSON.parse(buf.toString('utf8'));
      } catch (e) {
        throw new Transient(fail(`answer is not JSON (${buf.length} bytes, ${contentType || 'no content type'})`, { status, kind: 'invalid-body', cause: e }), 'unknown');
      }
      if (!isObject(env)) throw fail('answer is not an envelope object', { status, kind: 'contract' });
      if (c.expect === 'empty') return undefined as T;
      if (!('data' in env) || env.data === undefined || env.data === null) throw fail('envelope has no data', { status, kind: 'contract' });
      return c.validate ? c.validate(env.data) : (env.data as T);
    }

    // An error answer: the reason is in errors[0] (observed), else message.
    let code: number | undefined;
    let reasons: string[] = [];
    try {
      const env = JSON.parse(buf.toString('utf8')) as unknown;
      if (isObject(env)) {
        if (typeof env.code === 'number') code = env.code;
        if (Array.isArray(env.errors)) reasons = env.errors.filter((x): x is string => typeof x === 'string');
        if (reasons.length === 0 && typeof env.message === 'string' && env.message) reasons = [env.message];
      }
    } catch {
      // not JSON (e.g. a proxy's HTML page)
    }
    const reasonText = reasons.map((r) => this.scrub(r));
    const message = `${status}${reasonText.length ? ` ${reasonText.join('; ')}` : ''}`;
    const init = { status, code, errors: reasonText };
    if (status >= 500) {
      // For a login only 500/503 prove that no session was made; a gateway's 502/504 does not.
      throw new Transient(fail(message, init), status === 500 || status === 503 ? 'no' : 'unknown');
    }
    if (isLicenceLimitResponse(c.op, status, reasons)) throw new LicenceLimitError(c.op, this.scrub(`Logikal ${c.op}: ${message}`), { ...init, attempts: attempt });
    if (status === 401) throw new LogikalAuthError(c.op, this.scrub(`Logikal ${c.op}: ${message}`), { ...init, attempts: attempt });
    if (status === 405 || status === 409) throw new WrongStateError(c.op, this.scrub(`Logikal ${c.op}: ${message}`), { ...init, attempts: attempt });
    throw fail(message, init);
  }
}

/**
 * The parts list's envelope is `{"data":"<base64 of megabytes>","hints":[],"warnings":[]}`.
 * Finding the data string in the raw bytes and decoding that slice costs a fraction of a
 * JSON.parse of the whole body (bench/logikal.ts measured it: it dominated the CPU per file).
 * Anything unusual (escapes, another shape) falls back to a full JSON.parse.
 */
export function decodeBase64Data(raw: Buffer): Buffer {
  let slice: string | undefined;
  const key = raw.indexOf('"data"');
  if (key >= 0) {
    const colon = raw.indexOf(':', key + 6);
    const open = colon >= 0 ? raw.indexOf('"', colon + 1) : -1;
    const close = open >= 0 ? raw.indexOf('"', open + 1) : -1;
    const gapsAreBlank = open >= 0 && /^\s*$/.test(raw.toString('latin1', key + 6, colon)) && /^\s*$/.test(raw.toString('latin1', colon + 1, open));
    // A backslash (an escaped '/') or anything else unusual: leave it to JSON.parse below.
    const backslash = open >= 0 ? raw.indexOf('\\', open + 1) : -1;
    if (close > open && gapsAreBlank && (backslash === -1 || backslash > close)) {
      slice = raw.toString('latin1', open + 1, close);
    }
  }
  if (slice === undefined) {
    const env = JSON.parse(raw.toString('utf8')) as { data?: unknown };
    if (typeof env?.data !== 'string') throw contract('partsList', 'data is not a base64 string');
    slice = env.data.replace(/\s+/g, '');
  }
  // Node's decoder skips characters outside the alphabet, so a bad or truncated string
  // decodes to fewer bytes than its length promises: one length check validates it all.
  const padding = slice.endsWith('==') ? 2 : slice.endsWith('=') ? 1 : 0;
  const expected = (slice.length / 4) * 3 - padding;
  const bytes = Buffer.from(slice, 'base64');
  if (slice.length % 4 !== 0 || bytes.length !== expected) throw contract('partsList', 'data is not valid base64');
  return bytes;
}

/** What partsListFile() does with the file once it is decoded. */
export interface PartsListParseOptions {
  /** The elevation's name, to pick its row in the file's Elevations table. */
  elevationName: string;
  /** The hash stored for the last good parse: a file with this hash is not parsed again. */
  unlessHash?: string | null;
  /** Refuse files larger than this (default MAX_PARTS_LIST_BYTES). */
  maxBytes?: number;
}

/** A downloaded parts list: its hash and size, and what became of it. */
export interface PartsListFile {
  sha256: string;
  sizeBytes: number;
  outcome:
    | { kind: 'parsed'; parsed: ParsedPartsList }
    | { kind: 'same-file' }
    /** The file is unusable (PartsListError): recorded against the elevation, not retried. */
    | { kind: 'failed'; problem: PartsListProblem; message: string };
}

/**
 * From a parts-list answer's raw body to a PartsListFile: decode the base64 `data`, hash, and
 * parse unless the hash is `unlessHash`. Plain data out (structured-cloneable): the worker pool
 * runs exactly this (parts-list-worker.ts). Throws like decodeBase64Data on a bad envelope.
 */
export function processPartsList(raw: Buffer, opts: PartsListParseOptions): PartsListFile {
  const bytes = decodeBase64Data(raw);
  const sha256 = partsListHash(bytes);
  if (opts.unlessHash && opts.unlessHash === sha256) return { sha256, sizeBytes: bytes.length, outcome: { kind: 'same-file' } };
  try {
    const parsed = parsePartsList(bytes, { elevationName: opts.elevationName, maxBytes: opts.maxBytes, sha256 });
    return { sha256, sizeBytes: bytes.length, outcome: { kind: 'parsed', parsed } };
  } catch (e) {
    if (!(e instanceof PartsListError)) throw e;
    return { sha256, sizeBytes: bytes.length, outcome: { kind: 'failed', problem: e.problem, message: e.message } };
  }
}

// ---------------------------------------------------------------------------------------------
// Session

/**
 * One server-side session. Mirrors the server's context state; calls that the server refuses in
 * the current state come back as WrongStateError (the client does not pre-check plain calls, so
 * the server stays the judge). Do not run a select concurrently with any other call on the same
 * session (that is refused locally); reads in the same state may run in parallel.
 */
export class LogikalSession {
  private _state: SessionState = 'directory';
  private readonly loc: SessionLocation = { directoryPath: '', projectId: null, phaseId: null, elevationId: null };
  private inflight = 0;
  private selecting = false;
  private closing?: Promise<void>;

  constructor(
    private readonly client: LogikalClient,
    private readonly token: string,
  ) {}

  get state(): SessionState {
    return this._state;
  }

  get location(): Readonly<SessionLocation> {
    return { ...this.loc };
  }

  // -------------------------------------------------------------------------------------------
  // Directories

  /** GET /directories: sub-directories of the selected directory (directory state). */
  listDirectories(): Promise<DirectoryData[]> {
    return this.read('listDirectories', '/directories', arrayOf<DirectoryData>('listDirectories', (v) => typeof v.path === 'string' && typeof v.name === 'string', 'directory'));
  }

  /**
   * Selects `path` by selecting each cumulative prefix not yet selected ('A', then 'A/B'); an
   * ancestor of the current directory is selected directly (climbing back). Outside directory
   * state the server answers 409 → WrongStateError.
   */
  async selectDirectory(path: string): Promise<void> {
    const target = path.replace(/^\/+|\/+$/g, '');
    const cur = this.loc.directoryPath ?? '';
    this.guard('selectDirectory', true);
    if (this._state !== 'directory') {
      if (target === '') throw new WrongStateError('selectDirectory', `Logikal selectDirectory: the session is in ${this._state} state; open a new session`, { kind: 'local' });
      await this.selectDirectoryOnce(target); // the server answers 409 "isn't valid in the current mapping"
      return;
    }
    if (target === cur) return;
    if (target === '') {
      throw new WrongStateError('selectDirectory', 'Logikal selectDirectory: the root cannot be selected again; open a new session', { kind: 'local' });
    }
    if (isAncestorOrSelf(target, cur)) {
      await this.selectDirectoryOnce(target);
      return;
    }
    const segs = target.split('/');
    for (let i = 1; i <= segs.length; i++) {
      const prefix = segs.slice(0, i).join('/');
      if (!isAncestorOrSelf(prefix, cur)) await this.selectDirectoryOnce(prefix);
    }
  }

  private selectDirectoryOnce(path: string): Promise<void> {
    return this.select('selectDirectory', '/directories/select', path, () => {
      this.loc.directoryPath = path;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Projects

  /** GET /projects: projects of the selected directory (directory state). */
  listProjects(): Promise<ProjectData[]> {
    return this.read('listProjects', '/projects', arrayOf<ProjectData>('listProjects', hasId, 'project'));
  }

  selectProject(id: string): Promise<void> {
    const pid = normalizeId(id);
    return this.select('selectProject', '/projects/select', pid, () => {
      this._state = 'project';
      this.loc.projectId = pid;
    });
  }

  /** GET /projects/selected (project state and deeper). */
  selectedProject(): Promise<ProjectData> {
    return this.read('selectedProject', '/projects/selected', (d) => {
      if (!isObject(d) || !hasId(d)) throw contract('selectedProject', 'data is not a project');
      return d as unknown as ProjectData;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Phases

  /** GET /phases (project state). */
  listPhases(): Promise<PhaseData[]> {
    return this.read('listPhases', '/phases', arrayOf<PhaseData>('listPhases', hasId, 'phase'));
  }

  selectPhase(id: string): Promise<void> {
    const pid = normalizeId(id);
    return this.select('selectPhase', '/phases/select', pid, () => {
      this._state = 'phase';
      this.loc.phaseId = pid;
      this.loc.elevationId = null;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Elevations

  /** GET /elevations: the elevations of the selected phase (phase state). */
  listElevations(): Promise<ElevationData[]> {
    return this.read('listElevations', '/elevations', arrayOf<ElevationData>('listElevations', hasId, 'elevation'));
  }

  /**
   * The thumbnail's raw bytes. Phase state: GET /elevations/{id}/thumbnail. In elevation state,
   * for the selected elevation: GET /elevations/selected/thumbnail.
   */
  thumbnail(elevationId: string, opts: ThumbnailOptions = {}): Promise<Buffer> {
    const id = normalizeId(elevationId);
    const query = {
      width: String(opts.width ?? 300),
      height: String(opts.height ?? 300),
      format: opts.format ?? 'PNG',
      view: opts.view ?? 'Interior',
      withdimensions: String(opts.withDimensions ?? true),
      withdescription: String(opts.withDescription ?? false),
    };
    const selected = this._state === 'elevation' && this.loc.elevationId === id;
    const path = selected ? '/elevations/selected/thumbnail' : `/elevations/${encodeURIComponent(id)}/thumbnail`;
    return this.run<Buffer>({ op: 'thumbnail', method: 'GET', path, query, expect: 'binary' });
  }

  selectElevation(id: string): Promise<void> {
    const eid = normalizeId(id);
    return this.select('selectElevation', '/elevations/select', eid, () => {
      this._state = 'elevation';
      this.loc.elevationId = eid;
    });
  }

  /** GET /elevations/selected/parts-list (elevation state): the SQLite file, base64-decoded. */
  partsList(): Promise<Buffer> {
    return this.run<Buffer>({
      op: 'partsList',
      method: 'GET',
      path: '/elevations/selected/parts-list',
      expect: 'raw-envelope',
      timeoutMs: this.client.partsListTimeoutMs,
      validate: (raw) => decodeBase64Data(raw as Buffer),
    });
  }

  /**
   * GET /elevations/selected/parts-list (elevation state), decoded, hashed and parsed
   * (processPartsList) — on the worker pool when there is one, so the event loop never touches
   * the megabytes. Errors and retries are those of partsList().
   */
  partsListFile(opts: PartsListParseOptions): Promise<PartsListFile> {
    return this.run<PartsListFile>({
      op: 'partsList',
      method: 'GET',
      path: '/elevations/selected/parts-list',
      expect: 'raw-envelope',
      timeoutMs: this.client.partsListTimeoutMs,
      offload: { elevationName: opts.elevationName, unlessHash: opts.unlessHash ?? null, maxBytes: opts.maxBytes },
      validate: (input) => (Buffer.isBuffer(input) ? processPartsList(input, opts) : (input as PartsListFile)),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Navigation

  /**
   * Moves from the current state to the target with the fewest calls (only the selects that are
   * missing). Throws WrongStateError without calling the server when that would need going up
   * (another project, or a shallower state than the current one): only a new session can.
   * Sideways moves (another phase of the project, another elevation of the phase) are attempted;
   * whether the server allows them is its call (405 → WrongStateError).
   */
  async navigate(target: NavigationTarget): Promise<void> {
    if (this._state === 'closed') throw new LogikalError('navigate', 'Logikal navigate: the session is closed', { kind: 'local' });
    if (target.elevationId !== undefined && target.phaseId === undefined) {
      throw new LogikalError('navigate', 'Logikal navigate: an elevation target needs its phaseId', { kind: 'local' });
    }
    const projectId = normalizeId(target.projectId);
    const phaseId = target.phaseId === undefined ? undefined : normalizeId(target.phaseId);
    const elevationId = target.elevationId === undefined ? undefined : normalizeId(target.elevationId);
    const up = (why: string) => new WrongStateError('navigate', `Logikal navigate: ${why}; only a new session can go up`, { kind: 'local' });

    if (this._state === 'directory') {
      await this.selectDirectory(target.directoryPath);
      await this.selectProject(projectId);
    } else if (this.loc.projectId !== projectId) {
      throw up(`the session is inside another project (${this._state} state)`);
    }

    if (phaseId === undefined) {
      if (this._state !== 'project') throw up(`the target is the project but the session is in ${this._state} state`);
      return;
    }
    if (this._state === 'elevation' && elevationId === undefined) throw up('the target is a phase but the session is in elevation state');
    if (this._state === 'project' || this.loc.phaseId !== phaseId) await this.selectPhase(phaseId);
    if (elevationId !== undefined && !(this._state === 'elevation' && this.loc.elevationId === elevationId)) await this.selectElevation(elevationId);
  }

  /** DELETE /auth. Idempotent; never throws (failures are logged at warn). */
  close(): Promise<void> {
    if (!this.closing) {
      this._state = 'closed';
      this.closing = this.client
        .call<void>({ op: 'logout', method: 'DELETE', path: '/auth', token: this.token, expect: 'empty' })
        .catch((e: unknown) => {
          if (e instanceof LogikalAuthError) return; // already gone (expired, or an earlier attempt did it)
          const err = e as LogikalError;
          this.client.warn({ op: 'logout', status: err.status, kind: err.kind }, `logikal logout failed: ${String(err.message)}`);
        })
        .finally(() => this.client.sessionClosed(this.token));
    }
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private guard(op: string, isSelect: boolean): void {
    if (this._state === 'closed') throw new LogikalError(op, `Logikal ${op}: the session is closed`, { kind: 'local' });
    if (this.selecting || (isSelect && this.inflight > 0)) {
      throw new LogikalError(op, `Logikal ${op}: a select must not overlap other calls on the same session`, { kind: 'local' });
    }
  }

  /** One call on this session; a select's `onSuccess` updates the mirrored state before others may run. */
  private async run<T>(c: Omit<Call<T>, 'token'>, isSelect = false, onSuccess?: () => void): Promise<T> {
    this.guard(c.op, isSelect);
    this.inflight++;
    if (isSelect) this.selecting = true;
    try {
      const out = await this.client.call<T>({ ...c, token: this.token });
      onSuccess?.();
      return out;
    } finally {
      this.inflight--;
      if (isSelect) this.selecting = false;
    }
  }

  private read<T>(op: string, path: string, validate: (d: unknown) => T): Promise<T> {
    return this.run<T>({ op, method: 'GET', path, expect: 'data', validate });
  }

  private async select(op: string, path: string, identifier: string, onSuccess: () => void): Promise<void> {
    await this.run<void>({ op, method: 'POST', path, body: { identifier }, expect: 'empty' }, true, onSuccess);
  }
}
