/**
 * The simulator's HTTP side: express 5 on node:http, base path /api/v3. Per request, in order:
 * count it → inject faults (timeout: hold; 5xx: answer without performing) → simulated latency
 * (async, never blocks other sessions) → bearer authentication → the state machine → write the
 * reply (truncated when the plan says so).
 */
import { listenSimulator } from '../../simulator-server';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import { LOGIKAL_BASE_PATH } from '../contract';
import { demoDataset, findElevation, type SimDataset } from './dataset';
import { FaultInjector } from './faults';
import { LogikalMachine, errorReply, okReply, TEXT, type Reply, type SimSession } from './state';
import {
  REAL_LATENCY_MS,
  type FaultPlan,
  type LatencyMs,
  type LogikalSimulator,
  type MutableSimulatorOptions,
  type SimOperation,
  type SimulatorOptions,
  type SimulatorStats,
} from './types';

type Op = SimOperation | 'unknown';

/** Maps a request to its operation (paths relative to the base path). */
function operationOf(method: string, path: string): Op {
  const p = path.replace(/\/+$/, '') || '/';
  switch (`${method} ${p}`) {
    case 'POST /auth':
      return 'login';
    case 'DELETE /auth':
      return 'logout';
    case 'GET /version':
      return 'version';
    case 'GET /directories':
      return 'listDirectories';
    case 'POST /directories/select':
      return 'selectDirectory';
    case 'GET /projects':
      return 'listProjects';
    case 'POST /projects/select':
      return 'selectProject';
    case 'GET /projects/selected':
      return 'selectedProject';
    case 'GET /phases':
      return 'listPhases';
    case 'POST /phases/select':
      return 'selectPhase';
    case 'GET /elevations':
      return 'listElevations';
    case 'POST /elevations/select':
      return 'selectElevation';
    case 'GET /elevations/selected/parts-list':
      return 'partsList';
  }
  if (method === 'GET' && /^\/elevations\/[^/]+\/thumbnail$/.test(p)) return 'thumbnail';
  return 'unknown';
}

const BAD_GATEWAY_HTML = Buffer.from('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n');

export async function startLogikalSimulator(opts: SimulatorOptions = {}): Promise<LogikalSimulator> {
  const dataset = opts.dataset ?? demoDataset();
  const machine = new LogikalMachine(dataset, {
    credentials: opts.credentials ?? { username: 'demo', password: 'demo' },
    maxSessions: opts.maxSessions ?? 4,
    allowSiblingElevationSelect: opts.allowSiblingElevationSelect ?? true,
    allowPhaseReselect: opts.allowPhaseReselect ?? true,
    directorySelect: opts.directorySelect ?? 'any',
    sessionTtlMs: opts.sessionTtlMs ?? 30 * 60_000,
  });
  const latency: LatencyMs = { ...REAL_LATENCY_MS, ...opts.latencyMs };
  let latencyScale = opts.latencyScale ?? 1;
  const faults = new FaultInjector(opts.faults);
  const requests: Record<string, number> = {};
  const closing = new AbortController();

  /** Writes a reply; `truncate` announces the full length, writes half and destroys the socket. */
  const write = (res: Response, reply: Reply, truncate: boolean): void => {
    if (res.headersSent || res.destroyed || closing.signal.aborted) return;
    res.writeHead(reply.status, { 'Content-Type': reply.contentType, 'Content-Length': String(reply.body.length) });
    if (!truncate) {
      res.end(reply.body);
      return;
    }
    res.write(reply.body.subarray(0, Math.floor(reply.body.length / 2)), () => res.socket?.destroy());
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const api = express.Router();

  // Count, inject faults, simulate latency — before the body is even parsed.
  api.use(async (req: Request, res: Response, next: NextFunction) => {
    const op = operationOf(req.method, req.path);
    requests[op] = (requests[op] ?? 0) + 1;
    res.locals.op = op;
    if (faults.decide('timeout', op)) return; // hold: never answer; close() destroys the socket
    const status5xx = faults.decide('status5xx', op) ? faults.status5xx() : 0;
    res.locals.truncate = !status5xx && faults.decide('truncateBody', op);
    const ms = op === 'unknown' ? 0 : latency[op] * latencyScale;
    if (ms > 0) {
      try {
        await delay(ms, undefined, { signal: closing.signal });
      } catch {
        return; // closing
      }
    }
    if (status5xx === 502) return write(res, { status: 502, body: BAD_GATEWAY_HTML, contentType: 'text/html' }, false);
    if (status5xx) return write(res, errorReply(status5xx, 'An unexpected error occurred on the server.'), false);
    next();
  });
  api.use(express.json({ limit: '1mb' }));

  const authed =
    (fn: (s: SimSession, req: Request) => Reply) =>
    (req: Request, res: Response): void => {
      const s = machine.authenticate(req.get('authorization'));
      write(res, s ? fn(s, req) : errorReply(401, TEXT.invalidSession), res.locals.truncate === true);
    };
  const open =
    (fn: (req: Request) => Reply) =>
    (req: Request, res: Response): void =>
      write(res, fn(req), res.locals.truncate === true);

  api.post('/auth', open((req) => machine.login(req.body)));
  api.delete('/auth', authed((s) => machine.logout(s)));
  api.get('/version', open(() => okReply(machine.dataset.version)));
  api.get('/directories', authed((s) => machine.listDirectories(s)));
  api.post('/directories/select', authed((s, req) => machine.selectDirectory(s, req.body)));
  api.get('/projects', authed((s) => machine.listProjects(s)));
  api.post('/projects/select', authed((s, req) => machine.selectProject(s, req.body)));
  api.get('/projects/selected', authed((s) => machine.selectedProject(s)));
  api.get('/phases', authed((s) => machine.listPhases(s)));
  api.post('/phases/select', authed((s, req) => machine.selectPhase(s, req.body)));
  api.get('/elevations', authed((s) => machine.listElevations(s)));
  api.post('/elevations/select', authed((s, req) => machine.selectElevation(s, req.body)));
  // `selected` routes first: they would otherwise match `:elevationId`.
  api.get('/elevations/selected/thumbnail', authed((s, req) => machine.selectedThumbnail(s, req.query as Record<string, unknown>)));
  api.get('/elevations/selected/parts-list', authed((s) => machine.partsList(s)));
  api.get('/elevations/:elevationId/thumbnail', authed((s, req) => machine.thumbnail(s, String(req.params.elevationId), req.query as Record<string, unknown>)));
  api.use((_req: Request, res: Response) => write(res, errorReply(404, 'The requested endpoint does not exist.'), false));
  // Body parser failures (malformed JSON, too large) and anything unexpected.
  api.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    write(res, status < 500 ? errorReply(400, TEXT.badRequest) : errorReply(500, 'An unexpected error occurred on the server.'), false);
  });

  app.use(LOGIKAL_BASE_PATH, api);
  app.use((_req: Request, res: Response) => write(res, errorReply(404, 'The requested endpoint does not exist.'), false));

  const server = await listenSimulator(app, opts);

  const sim: LogikalSimulator = {
    url: `${server.origin}${LOGIKAL_BASE_PATH}`,
    get dataset(): SimDataset {
      return machine.dataset;
    },
    set dataset(ds: SimDataset) {
      machine.dataset = ds;
    },
    stats(): SimulatorStats {
      return {
        liveSessions: machine.liveSessions(),
        peakSessions: machine.peakSessions,
        logins: machine.logins,
        logouts: machine.logouts,
        loginRefusals: machine.loginRefusals,
        requests: { ...requests },
        partsListDownloads: machine.partsListDownloads,
        thumbnailDownloads: machine.thumbnailDownloads,
        partsListGenerations: machine.partsLists.generations,
        expiredSessions: machine.expiredSessions,
        connections: server.connections(),
        faults: { ...faults.hits },
      };
    },
    editElevation(guid: string, change: { name?: string; amount?: number } = {}): void {
      const e = findElevation(machine.dataset, guid);
      if (!e) throw new Error(`No elevation ${guid} in the simulator dataset`);
      if (change.name !== undefined) e.data.name = change.name;
      if (change.amount !== undefined) e.data.amount = change.amount;
      e.data.versionId = randomUUID();
      e.data.changedDate = Math.max(Math.floor(Date.now() / 1000), e.data.changedDate + 1);
    },
    setFaults(f: FaultPlan | undefined): void {
      faults.set(f);
    },
    setOptions(o: Partial<MutableSimulatorOptions>): void {
      if (o.latencyScale !== undefined) latencyScale = o.latencyScale;
      if (o.maxSessions !== undefined) machine.opts.maxSessions = o.maxSessions;
      if (o.allowSiblingElevationSelect !== undefined) machine.opts.allowSiblingElevationSelect = o.allowSiblingElevationSelect;
      if (o.allowPhaseReselect !== undefined) machine.opts.allowPhaseReselect = o.allowPhaseReselect;
      if (o.sessionTtlMs !== undefined) machine.opts.sessionTtlMs = o.sessionTtlMs;
      if (o.directorySelect !== undefined) machine.opts.directorySelect = o.directorySelect;
    },
    expireAllSessions(): void {
      machine.expireAll();
    },
    async close(): Promise<void> {
      if (closing.signal.aborted) return;
      closing.abort();
      await server.close();
    },
  };
  return sim;
}
