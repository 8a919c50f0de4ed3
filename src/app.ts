/**
 * The composition root: builds the database, event bus, services, both transports and the
 * HTTP server from one AppConfig, and tears them down in order on stop(). The CLI, the
 * tests and the benchmarks all start the middleware through createCompanion().
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { AppError, HTTP_STATUS, isAppError } from './errors';
import type { AppConfig } from './config';
import { createKnex, ensureSchema, type Knex } from './db/knex';
import { migrateLatest } from './db/migrate';
import { createEventBus, type EventBus } from './events/bus';
import { buildGraphQLSchema } from './graphql/schema';
import { graphiqlMiddleware } from './http/graphiql';
import { createGraphQLTransport } from './http/graphql';
import { healthRoutes } from './http/health';
import { createMetrics, type Metrics } from './http/metrics';
import { requestId } from './http/request-id';
import { jsonRpcHandler } from './jsonrpc/http';
import { createMethodRegistry, type RpcContext } from './jsonrpc/methods';
import type { MethodRegistry } from './jsonrpc/registry';
import { createLogger, type Logger } from './logger';
import { authenticateKey, bearerToken } from './services/api-keys';
import { createLoaders } from './services/loaders';
import type { ServiceContext } from './services/context';
import { markInterruptedRuns } from './services/sync-runs';
import { createLogikalClient } from './services/logikal';
import { createIikoClients } from './services/iiko';
import { JobRunner } from './jobs/runner';
import { ReceiptPrinter } from './jobs/receipt-printer';
import type { FiscalRegister } from './device/register';
import { openConfiguredRegister } from './device/open-register';
import { hasScope, requireScope } from './auth/scopes';
import { elevationThumbnail } from './services/catalog';
import { registerStatus } from './services/kkt';
import { packageVersion } from './paths';

export const VERSION: string = packageVersion();

export interface Companion {
  config: AppConfig;
  db: Knex;
  events: EventBus;
  logger: Logger;
  services: ServiceContext;
  metrics: Metrics;
  rpc: MethodRegistry<RpcContext>;
  httpServer: http.Server;
  /** Listens on config.host:config.port (port 0 = any free port); resolves to the base URL. */
  listen(): Promise<string>;
  /** Graceful: readiness goes red, in-flight requests finish, sockets close, the pool closes. */
  stop(): Promise<void>;
}

export interface CreateOptions {
  logger?: Logger;
  /** Called last in stop(), e.g. to stop a demo simulator started with the server. */
  onStop?: () => Promise<void>;
  /** Apply pending migrations before serving (the CLI's serve does; tests may pre-migrate). */
  migrate?: boolean;
  /** A fiscal register to print on instead of the configured one (the demo's emulator, tests). */
  register?: FiscalRegister;
}

export async function createCompanion(config: AppConfig, opts: CreateOptions = {}): Promise<Companion> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const db = createKnex(config.database);
  await ensureSchema(db, config.database);
  if (opts.migrate !== false) {
    const applied = await migrateLatest(db);
    if (applied.length) logger.info({ applied }, 'migrations applied');
  }
  const events = createEventBus();
  const jobs = new JobRunner(logger);
  const logikal = createLogikalClient(config.logikal, logger);
  const iiko = createIikoClients(config.iiko, logger);
  const register = opts.register ?? openConfiguredRegister(config.kkt, logger);
  const services: ServiceContext = { db, events, logger, jobs, config, integrations: { logikal, iiko, kkt: null } };
  const printer = register
    ? new ReceiptPrinter(services, register, {
        registerId: 'main',
        breaker: config.kkt.breaker,
        operatorRetryMs: config.kkt.operatorRetryMs,
        hardFaultRetryMs: config.kkt.hardFaultRetryMs,
        shiftCloseAfterMs: config.kkt.shiftCloseAfterMs,
        idlePollMs: 1_000,
        commandTimeoutMs: 120_000,
      })
    : null;
  services.integrations.kkt = printer;
  const interrupted = await markInterruptedRuns(services);
  if (interrupted) logger.warn({ interrupted }, 'sync runs left active by a previous process marked interrupted');
  // Receipts left `printing` by a previous process are reconciled with the register first.
  printer?.start();

  const metrics = createMetrics();
  metrics.trackReceipts(() => registerStatus(services));
  const authenticate = async (header: string | undefined) => {
    const token = bearerToken(header);
    return token ? authenticateKey(services, token) : null;
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const httpServer = http.createServer(app);
  let draining = false;

  app.use(requestId());
  app.use(accessLog(logger, metrics));
  app.use(healthRoutes(db, () => draining));
  app.get('/metrics', async (req, res, next) => {
    try {
      if (config.metricsRequireAuth) {
        const principal = await authenticate(req.get('authorization'));
        if (!principal) throw AppError.unauthenticated();
        if (!hasScope(principal, 'read')) throw AppError.forbidden('read');
      }
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    } catch (e) {
      next(e);
    }
  });

  // Elevation thumbnails for Odoo views and admin apps (binary: not part of GraphQL/JSON-RPC).
  app.get('/elevations/:id/thumbnail', async (req, res, next) => {
    try {
      requireScope(await authenticate(req.get('authorization')), 'read');
      const id = Number(req.params.id);
      if (!Number.isSafeInteger(id) || id <= 0) throw AppError.badInput('id must be a positive integer', [{ field: 'id', message: 'not an id' }]);
      const t = await elevationThumbnail(services, id);
      res.type(t.mime).setHeader('Cache-Control', 'private, max-age=300');
      res.send(t.bytes);
    } catch (e) {
      next(e);
    }
  });

  const rpc = createMethodRegistry({ title: 'odoo-companion JSON-RPC', version: VERSION });
  app.all(
    '/jsonrpc',
    jsonRpcHandler<RpcContext>({
      registry: rpc,
      authenticate,
      makeContext: (req, principal) => ({ principal, requestId: req.id, services, loaders: createLoaders(db) }),
      bodyLimitBytes: config.bodyLimitBytes,
      maxBatch: config.jsonrpc.maxBatch,
      logger,
      onCall: (method, outcome, seconds) => metrics.observe('jsonrpc', method, outcome, seconds),
    }),
  );

  const schema = buildGraphQLSchema();
  const gql = await createGraphQLTransport({
    schema, httpServer, services, logger, metrics, authenticate,
    limits: config.graphql, bodyLimitBytes: config.bodyLimitBytes, shutdownTimeoutMs: config.shutdownTimeoutMs,
  });
  app.use(graphiqlMiddleware({ endpoint: '/graphql', title: 'odoo-companion GraphiQL' }));
  app.use('/graphql', ...gql.middleware);

  app.use((req, res) => {
    res.status(404).json({ errors: [{ message: `No route for ${req.method} ${req.path}`, extensions: { code: 'NOT_FOUND' } }] });
  });
  app.use(errorHandler(logger));

  let stopped: Promise<void> | undefined;
  return {
    config, db, events, logger, services, metrics, rpc, httpServer,
    listen: () =>
      new Promise<string>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          const { port } = httpServer.address() as AddressInfo;
          const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
          resolve(`http://${host}:${port}`);
        });
      }),
    stop: () =>
      (stopped ??= (async () => {
        draining = true;
        logger.info('shutting down: draining requests and subscriptions');
        const timer = setTimeout(() => httpServer.closeAllConnections(), config.shutdownTimeoutMs);
        try {
          // Apollo's drain plugin stops accepting, lets in-flight requests finish, then disposes graphql-ws.
          await gql.stop();
        } finally {
          clearTimeout(timer);
          if (httpServer.listening) await new Promise((r) => httpServer.close(() => r(undefined)));
          // Running syncs stop at their next step, log out of remote systems and mark their runs.
          await jobs.stop(config.shutdownTimeoutMs);
          // A receipt being printed is finished and confirmed before the database closes.
          await printer?.stop();
          logikal?.close();
          for (const c of iiko) c.close();
          await db.destroy();
          await opts.onStop?.();
          logger.info('stopped');
        }
      })()),
  };
}

/** One JSON log line per request (never headers or bodies) and HTTP-level metrics. */
function accessLog(logger: Logger, metrics: Metrics): express.RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // originalUrl: routers mounted on a path (app.use('/graphql', …)) strip it from req.path.
      const path = req.originalUrl.split('?')[0];
      const route = ['/graphql', '/jsonrpc', '/healthz', '/readyz', '/metrics'].includes(path) ? path : 'other';
      metrics.observe('http', `${req.method} ${route}`, res.statusCode < 500 ? 'ok' : 'error', ms / 1000);
      logger.info({ requestId: req.id, method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

/** Errors that escape a route: JSON with our codes; body-parser's size/parse errors included. */
function errorHandler(logger: Logger): express.ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (isAppError(err)) {
      if (err.code === 'UNAUTHENTICATED') res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(HTTP_STATUS[err.code]).json({ errors: [{ message: err.message, extensions: { ...err.details, code: err.code } }] });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    if (e.type === 'entity.too.large') {
      res.status(413).json({ errors: [{ message: `Request body exceeds the limit of ${e.limit} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      return;
    }
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    if (e.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ errors: [{ message: e.message ?? 'Bad request', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    logger.error({ err, requestId: req.id }, 'unhandled error');
    res.status(500).json({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: req.id } }] });
  };
}
