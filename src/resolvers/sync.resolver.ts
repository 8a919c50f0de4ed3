import { Arg, Args, Authorized, Ctx, Field, ID, InputType, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { PageArgsGql, toConnection } from '../graphql/connection';
import { requireScope } from '../auth/scopes';
import { requireId } from '../graphql/ids';
import { SyncRun, SyncRunConnection, SyncRunStatus } from '../graphql/types';
import * as syncRuns from '../services/sync-runs';

@InputType()
export class SyncRunFilter {
  @Field(() => String, { nullable: true, description: 'e.g. logikal.project' }) kind?: string | null;
  @Field(() => SyncRunStatus, { nullable: true }) status?: SyncRunStatus | null;
  @Field(() => String, { nullable: true }) target?: string | null;
}

@Resolver()
export class SyncResolver {
  @Authorized('read')
  @Query(() => SyncRunConnection, { description: 'Sync runs, newest first' })
  async syncRuns(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgsGql) page: PageArgsGql,
    @Arg('filter', () => SyncRunFilter, { nullable: true }) filter?: SyncRunFilter,
  ) {
    return toConnection(SyncRunConnection, await syncRuns.listRuns(ctx.services, filter ?? {}, page));
  }

  @Authorized('read')
  @Query(() => SyncRun)
  syncRun(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string) {
    return syncRuns.getRun(ctx.services, requireId(id, 'id'));
  }

  @Authorized('sync')
  @Mutation(() => SyncRun, { description: 'Ask a queued or running sync to stop' })
  cancelSyncRun(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string) {
    return syncRuns.cancelRun(ctx.services, requireId(id, 'id'));
  }

  @Authorized('read')
  @Subscription(() => SyncRun, {
    description: 'The run’s current state at once, then every change until it finishes',
    // @Authorized runs per delivered event; the scope must be checked before anything is read.
    subscribe: ({ args, context }) => {
      requireScope((context as GraphQLContext).principal, 'read');
      return syncRuns.watchRun((context as GraphQLContext).services, requireId(args.id, 'id'));
    },
  })
  syncRunUpdated(@Root() run: syncRuns.SyncRunView, @Arg('id', () => ID) _id: string): syncRuns.SyncRunView {
    return run;
  }
}
