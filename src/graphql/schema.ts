import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchemaSync, type AuthChecker } from 'type-graphql';
import { requireScope, type Scope } from '../auth/scopes';
import { AdminResolver } from '../resolvers/admin.resolver';
import { CatalogResolver } from '../resolvers/catalog.resolver';
import { CommerceResolver } from '../resolvers/commerce.resolver';
import { DepartmentsResolver } from '../resolvers/departments.resolver';
import { IikoResolver } from '../resolvers/iiko.resolver';
import { LogikalResolver } from '../resolvers/logikal.resolver';
import { ReceiptsResolver } from '../resolvers/receipts.resolver';
import { relationResolvers } from '../resolvers/relations';
import { SyncResolver } from '../resolvers/sync.resolver';
import type { GraphQLContext } from './context';

/**
 * `@Authorized('scope')` on a field → the caller must hold that scope (admin holds all).
 * Throwing (instead of returning false) keeps our codes: UNAUTHENTICATED / FORBIDDEN.
 */
const authChecker: AuthChecker<GraphQLContext> = ({ context }, scopes) => {
  for (const s of scopes) requireScope(context.principal, s as Scope);
  return true;
};

let cached: GraphQLSchema | undefined;

/** The schema is built once per process (type-graphql keeps its metadata globally). */
export function buildGraphQLSchema(): GraphQLSchema {
  cached ??= buildSchemaSync({
    resolvers: [CatalogResolver, DepartmentsResolver, CommerceResolver, ReceiptsResolver, SyncResolver, LogikalResolver, IikoResolver, AdminResolver, ...relationResolvers],
    authChecker,
    validate: false,
    // Every @Subscription here brings its own `subscribe` (reading the companion's EventBus
    // from the context), because the schema is shared by every companion in the process.
    // type-graphql still insists on a pubSub; this one refuses to be used.
    pubSub: {
      publish: () => {
        throw new Error('publish through ServiceContext.events, not the schema pubSub');
      },
      subscribe: () => {
        throw new Error('give every @Subscription a subscribe function');
      },
    },
  });
  return cached;
}
