import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { DateScalar } from '../graphql/scalars';
import { SyncRun } from '../graphql/types';
import * as iiko from '../services/iiko';

@Resolver()
export class IikoResolver {
  @Authorized('sync')
  @Mutation(() => SyncRun, {
    description:
      'Sync the department trees of the configured iiko servers (or of one). Returns the run at once; follow it with ' +
      'syncProgress(runId). Each server is stored in its own transaction: a failing server keeps its previous rows and ' +
      'the others still sync (the run then fails, naming the server). A second call for the same servers joins the running run.',
  })
  async syncIikoDepartments(
    @Ctx() ctx: GraphQLContext,
    @Arg('server', () => String, { nullable: true, description: 'A configured iiko server name; all when omitted' }) server?: string | null,
  ) {
    return (await iiko.syncDepartments(ctx.services, { server })).run;
  }

  @Authorized('sync')
  @Mutation(() => SyncRun, {
    description:
      'Import daily sales (one OLAP request per business day) for [from, to] of the configured iiko servers (or of one). ' +
      'Departments must have been synced first: rows of unknown departments are counted and skipped. Returns the run at once.',
  })
  async importIikoSales(
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => DateScalar, { description: 'First business day' }) from: string,
    @Arg('to', () => DateScalar, { description: 'Last business day (inclusive); at most 3 years after from' }) to: string,
    @Arg('server', () => String, { nullable: true, description: 'A configured iiko server name; all when omitted' }) server?: string | null,
    @Arg('resume', () => Boolean, {
      defaultValue: true,
      description: 'Continue after the last day a previous import of this range completed; false re-imports the whole range',
    })
    resume?: boolean,
  ) {
    return (await iiko.importSales(ctx.services, { server, from, to, resume })).run;
  }
}
