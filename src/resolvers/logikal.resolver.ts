import { Arg, Authorized, Ctx, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { requireScope } from '../auth/scopes';
import { requireId } from '../graphql/ids';
import { SyncProgressEvent, SyncRun } from '../graphql/types';
import * as logikal from '../services/logikal';
import * as syncRuns from '../services/sync-runs';

@Resolver()
export class LogikalResolver {
  @Authorized('sync')
  @Mutation(() => SyncRun, {
    description:
      'Force sync of one Logikal project (phases, elevations, thumbnails, parts lists). Returns the run at once; ' +
      'follow it with syncProgress(runId). A second call for a running project returns the running run.',
  })
  async forceSyncProject(
    @Ctx() ctx: GraphQLContext,
    @Arg('directory', () => String, { description: 'Logikal directory path, e.g. "Demo Odoo"' }) directory: string,
    @Arg('project', () => String, { description: 'Project name (unique in the directory) or GUID' }) project: string,
    @Arg('full', () => Boolean, { defaultValue: false, description: 'Re-download unchanged parts lists too' }) full: boolean,
  ) {
    return (await logikal.forceSyncProject(ctx.services, { directory, project, full })).run;
  }

  @Authorized('read')
  @Subscription(() => SyncProgressEvent, {
    description: 'Every progress event of a run: the stored ones first, then live ones until the run ends',
    // @Authorized runs per delivered event; the scope must be checked before anything is read.
    subscribe: ({ args, context }) => {
      requireScope((context as GraphQLContext).principal, 'read');
      return syncRuns.watchEvents((context as GraphQLContext).services, requireId(args.runId, 'runId'));
    },
  })
  syncProgress(@Root() event: syncRuns.SyncEventView, @Arg('runId', () => ID) _runId: string): syncRuns.SyncEventView {
    return event;
  }
}
