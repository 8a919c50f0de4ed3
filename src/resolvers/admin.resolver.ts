import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { ApiClient, CreatedApiKey } from '../graphql/types';
import * as apiKeys from '../services/api-keys';

@Resolver()
export class AdminResolver {
  @Authorized('admin')
  @Query(() => [ApiClient], { description: 'API clients (never their keys)' })
  apiKeys(@Ctx() ctx: GraphQLContext) {
    return apiKeys.listApiKeys(ctx.services);
  }

  @Authorized('admin')
  @Mutation(() => CreatedApiKey, { description: 'Create an API key; the key is in the answer only' })
  createApiKey(
    @Ctx() ctx: GraphQLContext,
    @Arg('name', () => String) name: string,
    @Arg('scopes', () => [String], { description: 'read, sync, receipts, admin' }) scopes: string[],
  ) {
    return apiKeys.createApiKey(ctx.services, { name, scopes });
  }

  @Authorized('admin')
  @Mutation(() => ApiClient, { description: 'Revoke an API key by id; takes effect on the next request' })
  revokeApiKey(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string) {
    return apiKeys.revokeApiKey(ctx.services, id);
  }
}
