/**
 * GraphQL over HTTP (Apollo Server 5 on Express) and over WebSocket (graphql-ws) on the same
 * path. Both authenticate with an API key, share the schema, limits, error formatting and
 * metrics, and build the same per-request context.
 */
import type http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { randomUUID } from 'node:crypto';
import { GraphQLError, getOperationAST, parse, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/scopes';
import { isAppError } from '../errors';
import type { GraphQLContext } from '../graphql/context';
import { formatGraphQLError } from '../graphql/errors';
import { checkOperationLimits, type Limits } from '../graphql/limits';
import type { Logger } from '../logger';
import type { ServiceContext } from '../services/context';
import { createLoaders } from '../services/loaders';
import type { Metrics } from './metrics';

export interface GraphQLTransportOptions {
  schema: GraphQLSchema;
  httpServer: http.Server;
  services: ServiceContext;
  logger: Logger;
  metrics: Metrics;
  limits: Limits;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  /** Resolves a key; throws AppError UNAUTHENTICATED for unknown or revoked keys. */
  authenticate(authorization: string | undefined): Promise<Principal | null>;
}

/** Metric label for an operation: its type and first root field (bounded by the schema). */
function operationLabel(op: OperationDefinitionNode | null | undefined): string {
  if (!op) return 'invalid';
  const first = op.selectionSet.selections.find((s) => s.kind === 'Field');
  return `${op.operation} ${first && first.kind === 'Field' ? first.name.value : 'unknown'}`;
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: new Map([['www-authenticate', 'Bearer']]) } },
  });
}

/** graphql-ws sends errors as-is: give them the same codes and redaction as over HTTP. */
function formatForWs(errors: readonly GraphQLError[], format: ReturnType<typeof formatGraphQLError>): GraphQLError[] {
  return errors.map((e) => {
    const f = format(e.toJSON(), e);
    const { http: _http, ...extensions } = (f.extensions ?? {}) as Record<string, unknown>;
    return new GraphQLError(f.message, { path: f.path, extensions });
  });
}

export async function createGraphQLTransport(opts: GraphQLTransportOptions) {
  const { schema, services, logger, metrics, limits } = opts;
  const format = formatGraphQLError(logger);
  const wsStarted = new Map<string, { at: bigint; label: string; errored: boolean }>();

  const wsServer = new WebSocketServer({ server: opts.httpServer, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema,
      // graphql-ws closes with 4403 Forbidden when onConnect returns false.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const header = (params.Authorization ?? params.authorization) as string | undefined;
        try {
          const principal = header ? await opts.authenticate(header) : null;
          if (!principal) return false;
          ctx.extra.principal = principal;
          return true;
        } catch (e) {
          if (!isAppError(e)) logger.error({ err: e }, 'graphql-ws authentication failed');
          return false;
        }
      },
      // The key is checked again for every operation: a key revoked while the socket is open
      // stops working for the next operation (a running subscription finishes its stream).
      onSubscribe: async (ctx, id, payload) => {
        const params = ctx.connectionParams ?? {};
        const header = (params.Authorization ?? params.authorization) as string | undefined;
        try {
          ctx.extra.principal = (await opts.authenticate(header)) ?? undefined;
        } catch {
          ctx.extra.principal = undefined;
        }
        if (!ctx.extra.principal) return [new GraphQLError('Invalid or revoked API key', { extensions: { code: 'UNAUTHENTICATED' } })];
        let label = 'invalid';
        try {
          label = operationLabel(getOperationAST(parse(payload.query), payload.operationName));
        } catch {
          /* a parse error is reported by validation */
        }
        wsStarted.set(`${ctx.extra.request.socket.remotePort}:${id}`, { at: process.hrtime.bigint(), label, errored: false });
        return undefined;
      },
      onNext: (ctx, id, _payload, _args, result) => {
        if (!result.errors?.length) return undefined;
        const started = wsStarted.get(`${ctx.extra.request.socket.remotePort}:${id}`);
        if (started) started.errored = true;
        return { ...result, errors: formatForWs(result.errors as GraphQLError[], format) };
      },
      onError: (ctx, id, _payload, errors) => {
        observeWs(`${ctx.extra.request.socket.remotePort}:${id}`, 'error');
        return formatForWs(errors, format);
      },
      onComplete: (ctx, id) => {
        const key = `${ctx.extra.request.socket.remotePort}:${id}`;
        observeWs(key, wsStarted.get(key)?.errored ? 'error' : 'ok');
      },
      context: (ctx): GraphQLContext => ({
        services,
        principal: ctx.extra.principal!,
        loaders: createLoaders(services.db),
        requestId: randomUUID(),
      }),
      // Same limits as over HTTP; validate() runs before anything executes. Variables are
      // not known here, so connection sizes given as variables count as the default page.
      validate: (sch, document) => {
        const errors = validate(sch, document);
        if (errors.length) return errors;
        const op = getOperationAST(document);
        if (op) {
          try {
            checkOperationLimits(sch, document, op, undefined, limits);
          } catch (e) {
            if (e instanceof GraphQLError) return [e];
            throw e;
          }
        }
        return [];
      },
    },
    wsServer,
  );

  function observeWs(key: string, outcome: 'ok' | 'error') {
    const s = wsStarted.get(key);
    if (!s) return;
    wsStarted.delete(key);
    metrics.observe('graphql-ws', s.label, outcome, Number(process.hrtime.bigint() - s.at) / 1e9);
  }

  const limitsPlugin: ApolloServerPlugin<GraphQLContext> = {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      let label = 'invalid';
      return {
        async didResolveOperation({ document, operation, request }) {
          label = operationLabel(operation);
          if (operation) checkOperationLimits(schema, document, operation, request.variables, limits);
        },
        async willSendResponse({ response, contextValue }) {
          const body = response.body;
          // Unexpected errors carry the request id, so a user's report finds the log line.
          if (body.kind === 'single') {
            for (const e of body.singleResult.errors ?? []) {
              if (e.extensions?.code === 'INTERNAL_SERVER_ERROR' && contextValue?.requestId) {
                (e as { extensions: Record<string, unknown> }).extensions = { ...e.extensions, requestId: contextValue.requestId };
              }
            }
          }
          const failed = body.kind === 'single' && Boolean(body.singleResult.errors?.length);
          metrics.observe('graphql', label, failed ? 'error' : 'ok', Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: true,
    // The CLI owns signals and shuts everything down in order (Apollo would re-raise the signal).
    stopOnTerminationSignals: false,
    formatError: formatGraphQLError(logger),
    logger: {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
    plugins: [
      // In-flight requests get the configured grace period (Apollo's own default is 10 s).
      ApolloServerPluginDrainHttpServer({ httpServer: opts.httpServer, stopGracePeriodMillis: opts.shutdownTimeoutMs }),
      ApolloServerPluginLandingPageDisabled(), // our own offline GraphiQL replaces Apollo's CDN page
      // We send no cache hints; the plugin's per-field hook cost ~6 % of a request (bench/api).
      ApolloServerPluginCacheControlDisabled(),
      limitsPlugin,
      {
        async serverWillStart() {
          return {
            async drainServer() {
              // Closes every socket with 1001 "Going away" after in-flight operations' last message.
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  const middleware = [
    express.json({ limit: opts.bodyLimitBytes }),
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<GraphQLContext> => {
        let principal: Principal | null;
        try {
          principal = await opts.authenticate(req.get('authorization'));
        } catch (e) {
          if (isAppError(e)) throw unauthenticated(e.message);
          throw e;
        }
        if (!principal) throw unauthenticated('A valid API key is required (Authorization: Bearer <key>)');
        return { services, principal, loaders: createLoaders(services.db), requestId: req.id };
      },
    }),
  ];

  return { apollo, middleware, stop: () => apollo.stop(), wsServer, closeCode: CloseCode };
}
