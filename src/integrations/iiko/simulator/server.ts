/**
 * The iiko simulator's HTTP side, on plain node:http. Per request, in order: count it → inject
 * faults (timeout: hold; 5xx: answer without performing) → simulated latency (async, never
 * blocks other requests) → authentication → the operation → write the reply (truncated when the
 * plan says so).
 *
 * Wire behaviour (iiko-wix-allegro.md §1.2–§1.5); choices where a real server's answer is
 * unknown are marked [unverified]:
 * - GET|POST /resto/api/auth: `login` + `pass` (hex SHA-1 of the password, either case) from the
 *   query or a form-urlencoded body → 200 text/plain token (a UUID). Wrong credentials → 401
 *   text "Invalid login or password" [unverified text]. No free seat → 409 text "License
 *   enhancement is required: no free connections for the API (n of n in use)" [unverified:
 *   status and text; the client's isLicenceRefusal is the one place that recognises it].
 * - GET|POST /resto/api/logout: `key` (query, form body or cookie) → 200, empty body; the seat
 *   is free. Unknown or expired key → 401 [unverified: a real server may answer 200].
 * - Every other call: `key` from the query or a `key` cookie; unknown/expired → 401 text
 *   "Token is expired or invalid" [unverified text]. A token lives `tokenTtlMs` (default 1 h,
 *   sliding with activity by default) [unverified].
 * - GET /resto/api/corporation/departments → application/xml <corporateItemDtoes>.
 * - POST /resto/api/v2/reports/olap → application/json { data, summary } (see ./olap.ts).
 * - Anything else → 404 text; a known path with another method → 405 text.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { listenSimulator } from '../../simulator-server';
import { setTimeout as delay } from 'node:timers/promises';
import { IIKO_PATHS } from '../contract';
import { departmentsToXml, type RawDepartment } from '../xml';
import { IikoFaultInjector } from './faults';
import { generateDepartments, generateSales } from './generate';
import { entityBombXml, externalEntityXml, hugeXmlChunks, malformedXml } from './hostile';
import { runOlap } from './olap';
import {
  IIKO_REAL_LATENCY_MS,
  type IikoFaultPlan,
  type IikoLatencyMs,
  type IikoSimData,
  type IikoSimOperation,
  type IikoSimulator,
  type IikoSimulatorOptions,
  type IikoSimulatorStats,
  type MutableIikoSimulatorOptions,
} from './types';

type Op = IikoSimOperation | 'unknown';

const TEXT = 'text/plain;charset=UTF-8';
const XML = 'application/xml;charset=UTF-8';
const JSON_TYPE = 'application/json;charset=UTF-8';
const MAX_REQUEST_BYTES = 1024 * 1024;
const BAD_GATEWAY_HTML = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n';

export const SIM_TEXT = {
  badCredentials: 'Invalid login or password',
  invalidToken: 'Token is expired or invalid',
  licence: (used: number, seats: number) => `License enhancement is required: no free connections for the API (${used} of ${seats} in use)`,
  serverError: 'Internal server error',
};

const ROUTES: Record<string, { op: IikoSimOperation; methods: string[] }> = {
  [IIKO_PATHS.auth]: { op: 'auth', methods: ['GET', 'POST'] },
  [IIKO_PATHS.logout]: { op: 'logout', methods: ['GET', 'POST'] },
  [IIKO_PATHS.departments]: { op: 'departments', methods: ['GET'] },
  [IIKO_PATHS.olap]: { op: 'olap', methods: ['POST'] },
};

interface Reply {
  status: number;
  body: string | Buffer;
  contentType: string;
}

const text = (status: number, body: string): Reply => ({ status, body, contentType: TEXT });

function sha1Hex(s: string): string {
  return createHash('sha1').update(s, 'utf8').digest('hex');
}

function cookieKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'key') return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function defaultData(): IikoSimData {
  const departments = generateDepartments({ count: 50, seed: 1 });
  const today = Math.floor(Date.now() / 86_400_000);
  const day = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);
  return {
    departments,
    sales: generateSales({ departments: departments.filter((d) => d.type === 'DEPARTMENT').map((d) => d.id), dishes: 40, from: day(today - 365), to: day(today - 1), seed: 1 }),
  };
}

export async function startIikoSimulator(opts: IikoSimulatorOptions = {}): Promise<IikoSimulator> {
  const settings = {
    login: opts.login ?? 'admin',
    passHash: sha1Hex(opts.password ?? 'secret'),
    seats: opts.seats ?? 1,
    tokenTtlMs: opts.tokenTtlMs ?? 60 * 60_000,
    tokenTtlMode: opts.tokenTtlMode ?? 'sliding',
    latency: { ...IIKO_REAL_LATENCY_MS, ...opts.latencyMs } as IikoLatencyMs,
    latencyScale: opts.latencyScale ?? 1,
    hugeXmlBytes: opts.hugeXmlBytes ?? 64 * 1024 * 1024,
    jurTaxpayer: opts.jurTaxpayer ?? 'nested',
  };
  let data: IikoSimData = opts.data ?? defaultData();
  const faults = new IikoFaultInjector(opts.faults);
  const tokens = new Map<string, { issuedAt: number; expiresAt: number }>();
  const issued: string[] = [];
  const counters = { peakTokens: 0, logins: 0, logouts: 0, refusedLogins: 0, badCredentials: 0, expiredTokens: 0, olapRequests: 0, olapRows: 0 };
  const requests: Record<string, number> = {};
  const closing = new AbortController();

  const purge = (): number => {
    const now = Date.now();
    for (const [t, s] of tokens) {
      if (s.expiresAt <= now) {
        tokens.delete(t);
        counters.expiredTokens++;
      }
    }
    return tokens.size;
  };
  /** The live token `key`, renewed when sliding; undefined when unknown or expired. */
  const use = (key: string | undefined): string | undefined => {
    if (!key) return undefined;
    const s = tokens.get(key);
    if (!s) return undefined;
    const now = Date.now();
    if (s.expiresAt <= now) {
      tokens.delete(key);
      counters.expiredTokens++;
      return undefined;
    }
    if (settings.tokenTtlMode === 'sliding') s.expiresAt = now + settings.tokenTtlMs;
    return key;
  };

  let deptCache: { list: RawDepartment[]; length: number; index: Map<string, RawDepartment> } | undefined;
  const deptIndex = (): Map<string, RawDepartment> => {
    const list = data.departments;
    if (!deptCache || deptCache.list !== list || deptCache.length !== list.length) {
      deptCache = { list, length: list.length, index: new Map(list.map((d) => [d.id.toLowerCase(), d])) };
    }
    return deptCache.index;
  };

  // --- operations ---------------------------------------------------------------------------

  const login = (params: URLSearchParams): Reply => {
    const user = params.get('login');
    const pass = params.get('pass');
    if (user !== settings.login || !pass || pass.toLowerCase() !== settings.passHash) {
      counters.badCredentials++;
      return text(401, SIM_TEXT.badCredentials);
    }
    const used = purge();
    if (used >= settings.seats) {
      counters.refusedLogins++;
      return text(409, SIM_TEXT.licence(used, settings.seats));
    }
    const token = randomUUID();
    const now = Date.now();
    tokens.set(token, { issuedAt: now, expiresAt: now + settings.tokenTtlMs });
    issued.push(token);
    counters.logins++;
    counters.peakTokens = Math.max(counters.peakTokens, tokens.size);
    return { status: 200, body: token, contentType: TEXT };
  };

  const logout = (key: string | undefined): Reply => {
    const live = use(key);
    if (!live) return text(401, SIM_TEXT.invalidToken);
    tokens.delete(live);
    counters.logouts++;
    return { status: 200, body: '', contentType: TEXT };
  };

  const departments = (res: http.ServerResponse, truncate: boolean): void => {
    const plan = faults.current;
    if (plan?.hostileXml) {
      faults.xmlHits.hostileXml++;
      if (plan.hostileXml === 'huge') {
        void streamHuge(res);
        return;
      }
      write(res, { status: 200, body: plan.hostileXml === 'entity-bomb' ? entityBombXml() : externalEntityXml(), contentType: XML }, truncate);
      return;
    }
    let xml = departmentsToXml(data.departments, { jurTaxpayer: settings.jurTaxpayer });
    if (plan?.malformedXml) {
      faults.xmlHits.malformedXml++;
      xml = malformedXml(xml);
    }
    write(res, { status: 200, body: xml, contentType: XML }, truncate);
  };

  const streamHuge = async (res: http.ServerResponse): Promise<void> => {
    res.writeHead(200, { 'Content-Type': XML });
    for (const chunk of hugeXmlChunks(settings.hugeXmlBytes)) {
      if (res.destroyed || closing.signal.aborted) return;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    if (!res.destroyed) res.end();
  };

  const olap = (raw: string): Reply => {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return text(400, 'Request body is not valid JSON');
    }
    const r = runOlap(body, data, deptIndex());
    if (r.status === 200) {
      counters.olapRequests++;
      counters.olapRows += r.rows;
      return { status: 200, body: r.body, contentType: JSON_TYPE };
    }
    return text(r.status, r.body);
  };

  // --- HTTP ---------------------------------------------------------------------------------

  /** Writes a reply; `truncate` announces the full length, writes half and destroys the socket. */
  const write = (res: http.ServerResponse, reply: Reply, truncate: boolean): void => {
    if (res.headersSent || res.destroyed || closing.signal.aborted) return;
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
    res.writeHead(reply.status, { 'Content-Type': reply.contentType, 'Content-Length': String(body.length) });
    if (!truncate) {
      res.end(body);
      return;
    }
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
  };

  const readBody = (req: http.IncomingMessage): Promise<string | null> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_REQUEST_BYTES) chunks.push(c);
      });
      req.on('end', () => resolve(size > MAX_REQUEST_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
      req.on('error', () => resolve(null));
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const route = ROUTES[path];
    const op: Op = route ? route.op : 'unknown';
    requests[op] = (requests[op] ?? 0) + 1;
    const method = req.method ?? 'GET';
    if (!route) {
      req.resume();
      return write(res, text(404, `Not found: ${path}`), false);
    }
    if (!route.methods.includes(method)) {
      req.resume();
      return write(res, text(405, `Method ${method} is not allowed`), false);
    }
    if (faults.decide('timeout', route.op)) {
      req.resume();
      return; // hold: never answer; close() destroys the socket
    }
    const status5xx = faults.decide('status5xx', route.op) ? faults.status5xx() : 0;
    const truncate = !status5xx && faults.decide('truncateBody', route.op);
    const body = method === 'POST' ? await readBody(req) : (req.resume(), '');
    const ms = settings.latency[route.op] * settings.latencyScale;
    if (ms > 0) {
      try {
        await delay(ms, undefined, { signal: closing.signal });
      } catch {
        return; // closing
      }
    }
    if (status5xx === 502) return write(res, { status: 502, body: BAD_GATEWAY_HTML, contentType: 'text/html' }, false);
    if (status5xx) return write(res, text(status5xx, SIM_TEXT.serverError), false);
    if (body === null) return write(res, text(413, 'Request body too large'), false);

    const form = /application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '') ? new URLSearchParams(body) : new URLSearchParams();
    const key = url.searchParams.get('key') ?? form.get('key') ?? cookieKey(req.headers.cookie);
    switch (route.op) {
      case 'auth': {
        const params = new URLSearchParams(url.searchParams);
        for (const [k, v] of form) if (!params.has(k)) params.set(k, v);
        return write(res, login(params), truncate);
      }
      case 'logout':
        return write(res, logout(key ?? undefined), truncate);
      case 'departments':
        if (!use(key ?? undefined)) return write(res, text(401, SIM_TEXT.invalidToken), false);
        return departments(res, truncate);
      case 'olap':
        if (!use(key ?? undefined)) return write(res, text(401, SIM_TEXT.invalidToken), false);
        return write(res, olap(body), truncate);
    }
  };

  const server = await listenSimulator((req, res) => {
    handle(req, res).catch(() => write(res, text(500, SIM_TEXT.serverError), false));
  }, opts);

  return {
    url: server.origin,
    get data(): IikoSimData {
      return data;
    },
    set data(d: IikoSimData) {
      data = d;
    },
    stats(): IikoSimulatorStats {
      const liveTokens = purge();
      return { liveTokens, ...counters, connections: server.connections(), requests: { ...requests }, faults: { ...faults.hits, ...faults.xmlHits } };
    },
    setFaults(f: IikoFaultPlan | undefined): void {
      faults.set(f);
    },
    setOptions(o: Partial<MutableIikoSimulatorOptions>): void {
      if (o.login !== undefined) settings.login = o.login;
      if (o.password !== undefined) settings.passHash = sha1Hex(o.password);
      if (o.seats !== undefined) settings.seats = o.seats;
      if (o.tokenTtlMs !== undefined) {
        settings.tokenTtlMs = o.tokenTtlMs;
        const now = Date.now();
        for (const s of tokens.values()) s.expiresAt = Math.min(s.expiresAt, (settings.tokenTtlMode === 'fixed' ? s.issuedAt : now) + o.tokenTtlMs);
      }
      if (o.tokenTtlMode !== undefined) settings.tokenTtlMode = o.tokenTtlMode;
      if (o.latencyMs !== undefined) settings.latency = { ...settings.latency, ...o.latencyMs };
      if (o.latencyScale !== undefined) settings.latencyScale = o.latencyScale;
      if (o.hugeXmlBytes !== undefined) settings.hugeXmlBytes = o.hugeXmlBytes;
      if (o.jurTaxpayer !== undefined) settings.jurTaxpayer = o.jurTaxpayer;
    },
    expireAllTokens(): void {
      counters.expiredTokens += tokens.size;
      tokens.clear();
    },
    issuedTokens(): string[] {
      return [...issued];
    },
    async close(): Promise<void> {
      if (closing.signal.aborted) return;
      closing.abort();
      await server.close();
    },
  };
}
