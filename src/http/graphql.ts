/**
 * GraphQL over HTTP (Apollo Server 5 on Express) and over WebSocket (graphql-ws) on the same
 * path. Both authenticate with an API key, share the schema, limits, error formatting and
 * metrics, and build the same per-request context.
 */
import type http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, getOperationAST, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
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
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export async function createGraphQLTransport(opts: GraphQLTransportOptions) {
  const { schema, services, logger, metrics, limits } = opts;

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
      context: (ctx): GraphQLContext => ({
        services,
        principal: ctx.extra.principal!,
        loaders: createLoaders(services.db),
        requestId: `ws-${ctx.extra.request.socket.remotePort ?? 0}`,
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
        metrics.observe('graphql-ws', operationLabel(op), 'ok', 0);
        return [];
      },
    },
    wsServer,
  );

  const limitsPlugin: ApolloServerPlugin<GraphQLContext> = {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      let label = 'invalid';
      return {
        async didResolveOperation({ document, operation, request }) {
          label = operationLabel(operation);
          if (operation) checkOperationLimits(schema, document, operation, request.variables, limits);
        },
        async willSendResponse({ response }) {
          const body = response.body;
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
      ApolloServerPluginDrainHttpServer({ httpServer: opts.httpServer }),
      ApolloServerPluginLandingPageDisabled(), // our own offline GraphiQL replaces Apollo's CDN page
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
