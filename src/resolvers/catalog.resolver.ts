import { Arg, Args, Authorized, Ctx, Field, ID, InputType, Query, Resolver, registerEnumType } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { parseId } from '../graphql/ids';
import { PageArgsGql, toConnection } from '../graphql/connection';
import { Directory, Elevation, ElevationConnection, Project, ProjectConnection, SortDirection } from '../graphql/types';
import * as catalog from '../services/catalog';

export enum ProjectOrderField {
  NAME = 'name',
  CREATED_AT = 'createdAt',
  UPDATED_AT = 'updatedAt',
  ID = 'id',
}
registerEnumType(ProjectOrderField, { name: 'ProjectOrderField' });

@InputType()
export class ProjectFilter {
  @Field(() => String, { nullable: true, description: 'Exact Logikal directory path' }) directoryPath?: string | null;
  @Field(() => String, { nullable: true, description: 'Substring of name, job or offer number (case-insensitive)' })
  search?: string | null;
  @Field(() => String, { nullable: true }) guid?: string | null;
  @Field(() => String, { nullable: true, description: 'Exact project name' }) name?: string | null;
}

@InputType()
export class ProjectOrder {
  @Field(() => ProjectOrderField) field!: ProjectOrderField;
  @Field(() => SortDirection, { defaultValue: SortDirection.ASC }) direction!: SortDirection;
}

export enum ElevationOrderField {
  NAME = 'name',
  ID = 'id',
}
registerEnumType(ElevationOrderField, { name: 'ElevationOrderField' });

@InputType()
export class ElevationFilter {
  @Field(() => ID, { nullable: true }) projectId?: number | null;
  @Field(() => ID, { nullable: true }) phaseId?: number | null;
  @Field(() => String, { nullable: true, description: 'pending | success | failed' }) parseStatus?: string | null;
  @Field(() => String, { nullable: true }) systemName?: string | null;
}

@InputType()
export class ElevationOrder {
  @Field(() => ElevationOrderField) field!: ElevationOrderField;
  @Field(() => SortDirection, { defaultValue: SortDirection.ASC }) direction!: SortDirection;
}


@Resolver()
export class CatalogResolver {
  @Authorized('read')
  @Query(() => [Directory], { description: 'Logikal directories, by path' })
  directories(@Ctx() ctx: GraphQLContext) {
    return catalog.listDirectories(ctx.services);
  }

  @Authorized('read')
  @Query(() => ProjectConnection, { description: 'Logikal projects' })
  async projects(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgsGql) page: PageArgsGql,
    @Arg('filter', () => ProjectFilter, { nullable: true }) filter?: ProjectFilter,
    @Arg('orderBy', () => ProjectOrder, { nullable: true }) orderBy?: ProjectOrder,
  ) {
    const order = orderBy ? { field: orderBy.field, direction: orderBy.direction } : undefined;
    return toConnection(ProjectConnection, await catalog.listProjects(ctx.services, filter ?? {}, page, order));
  }

  @Authorized('read')
  @Query(() => Project, { description: 'One project by id, GUID, or name (+ directory path)' })
  project(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('guid', () => String, { nullable: true }) guid?: string,
    @Arg('name', () => String, { nullable: true }) name?: string,
    @Arg('directoryPath', () => String, { nullable: true }) directoryPath?: string,
  ) {
    return catalog.getProject(ctx.services, { id: parseId(id, 'id'), guid, name, directoryPath });
  }

  @Authorized('read')
  @Query(() => ElevationConnection, { description: 'Elevations across projects' })
  async elevations(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgsGql) page: PageArgsGql,
    @Arg('filter', () => ElevationFilter, { nullable: true }) filter?: ElevationFilter,
    @Arg('orderBy', () => ElevationOrder, { nullable: true }) orderBy?: ElevationOrder,
  ) {
    const f = filter ? { ...filter, projectId: parseId(filter.projectId, 'filter.projectId'), phaseId: parseId(filter.phaseId, 'filter.phaseId') } : {};
    const order = orderBy ? { field: orderBy.field, direction: orderBy.direction } : undefined;
    return toConnection(ElevationConnection, await catalog.listElevations(ctx.services, f, page, order));
  }

  @Authorized('read')
  @Query(() => Elevation)
  elevation(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('guid', () => String, { nullable: true }) guid?: string,
  ) {
    return catalog.getElevation(ctx.services, { id: parseId(id, 'id'), guid });
  }
}
