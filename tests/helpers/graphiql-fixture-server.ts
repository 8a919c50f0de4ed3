// Stand-in server for the GraphiQL browser test while tests/helpers/server.ts
// (the real app) is not there: Express 5 + Apollo Server 5 over HTTP and
// graphql-ws on the same path, both requiring a Bearer key, with the GraphiQL
// middleware in front. Same shape as startTestServer().
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { graphiqlMiddleware } from '../../src/http/graphiql';

// Node loads graphql 16 as CommonJS (index.js) for Apollo and graphql-ws, but
// vitest would resolve an `import 'graphql'` here to its ESM copy (index.mjs):
// two module instances, and Apollo rejects a schema built by the other one.
// Take graphql from Node's own loader so the schema shares their instance.
const {
  GraphQLError,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} = createRequire(__filename)('graphql') as typeof import('graphql');
type GraphQLSchema = import('graphql').GraphQLSchema;

export async function startGraphiqlFixtureServer(): Promise<{
  url: string;
  adminKey: string;
  close(): Promise<void>;
}> {
  const adminKey = 'test-admin-key';
  const schema = fixtureSchema();
  const authorized = (value: unknown) => value === `Bearer ${adminKey}`;

  const app = express();
  const httpServer = createServer(app);
  // Apollo's own landing page loads from a CDN; the GraphiQL middleware replaces it.
  const apollo = new ApolloServer({ schema, plugins: [ApolloServerPluginLandingPageDisabled()] });
  await apollo.start();

  app.use(graphiqlMiddleware({ endpoint: '/graphql', title: 'Fixture GraphiQL' }));
  app.use(
    '/graphql',
    express.json(),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        if (!authorized(req.headers.authorization)) {
          throw new GraphQLError('missing or invalid API key', {
            extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
          });
        }
        return {};
      },
    }),
  );

  const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer(
    {
      schema,
      // Browsers cannot set headers on a WebSocket: the key comes in connection params.
      onConnect: ({ connectionParams }) =>
        authorized(connectionParams?.['Authorization'] ?? connectionParams?.['authorization']),
    },
    wss,
  );

  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    adminKey,
    async close() {
      await wsCleanup.dispose();
      await apollo.stop();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve, reject) => httpServer.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** projects(first:) shaped like the real schema, plus a subscription counting to `to`. */
function fixtureSchema(): GraphQLSchema {
  const Project = new GraphQLObjectType({
    name: 'Project',
    fields: { name: { type: new GraphQLNonNull(GraphQLString) } },
  });
  const ProjectEdge = new GraphQLObjectType({
    name: 'ProjectEdge',
    fields: { node: { type: new GraphQLNonNull(Project) } },
  });
  const ProjectConnection = new GraphQLObjectType({
    name: 'ProjectConnection',
    fields: { edges: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(ProjectEdge))) } },
  });
  const names = ['DOS22309', 'DOS22310'];
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        projects: {
          type: new GraphQLNonNull(ProjectConnection),
          args: { first: { type: GraphQLInt } },
          resolve: (_root, args: { first?: number }) => ({
            edges: names.slice(0, args.first ?? names.length).map((name) => ({ node: { name } })),
          }),
        },
      },
    }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        count: {
          type: new GraphQLNonNull(GraphQLInt),
          args: { to: { type: new GraphQLNonNull(GraphQLInt) } },
          subscribe: async function* (_root, args: { to: number }) {
            for (let i = 1; i <= args.to; i++) yield { count: i };
          },
        },
      },
    }),
  });
}
