import { Arg, Args, Authorized, Ctx, Field, ID, InputType, Int, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { PageArgsGql, toConnection } from '../graphql/connection';
import { parseId, requireId } from '../graphql/ids';
import { DateScalar } from '../graphql/scalars';
import { DailySales, Department, DepartmentConnection, DepartmentTreeNode } from '../graphql/types';
import * as departments from '../services/departments';

@InputType()
export class DepartmentFilter {
  @Field(() => String, { nullable: true, description: 'Configured iiko server name' }) sourceServer?: string | null;
  @Field(() => String, { nullable: true, description: 'CORPORATION, JURPERSON, DEPARTMENT, STORE, …' }) type?: string | null;
  @Field(() => ID, { nullable: true }) parentId?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Only departments without a parent' }) rootsOnly?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'Include departments removed upstream' }) includeRemoved?: boolean | null;
  @Field(() => String, { nullable: true }) search?: string | null;
}

@Resolver()
export class DepartmentsResolver {
  @Authorized('read')
  @Query(() => DepartmentConnection, { description: 'iiko departments of every configured server' })
  async departments(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgsGql) page: PageArgsGql,
    @Arg('filter', () => DepartmentFilter, { nullable: true }) filter?: DepartmentFilter,
  ) {
    const f = filter ? { ...filter, parentId: parseId(filter.parentId, 'filter.parentId') } : {};
    return toConnection(DepartmentConnection, await departments.listDepartments(ctx.services, f, page));
  }

  @Authorized('read')
  @Query(() => Department)
  department(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string) {
    return departments.getDepartment(ctx.services, requireId(id, 'id'));
  }

  @Authorized('read')
  @Query(() => [DepartmentTreeNode], { description: 'The department tree, depth-first, with depth and parent' })
  async departmentTree(
    @Ctx() ctx: GraphQLContext,
    @Arg('sourceServer', () => String, { nullable: true }) sourceServer?: string,
    @Arg('maxDepth', () => Int, { nullable: true }) maxDepth?: number,
    @Arg('types', () => [String], { nullable: true }) types?: string[],
    @Arg('includeRemoved', () => Boolean, { nullable: true, defaultValue: false, description: 'Also departments that disappeared upstream' }) includeRemoved?: boolean,
  ) {
    const forest = await departments.departmentTree(ctx.services, { sourceServer, maxDepth, types, includeRemoved });
    return departments.flattenTree(forest).map(
      (n): DepartmentTreeNode => ({ id: n.id, parentId: n.parentId, depth: n.depth, name: n.name, type: n.type, code: n.code, sourceServer: n.sourceServer }),
    );
  }

  @Authorized('read')
  @Query(() => [DailySales], { description: 'Daily sales totals in a date range' })
  sales(
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => DateScalar) from: string,
    @Arg('to', () => DateScalar) to: string,
    @Arg('departmentIds', () => [ID], { nullable: true }) departmentIds?: string[],
    @Arg('productCode', () => String, { nullable: true }) productCode?: string,
    @Arg('byProduct', () => Boolean, { nullable: true, defaultValue: false }) byProduct?: boolean,
  ) {
    const ids = departmentIds?.map((d, i) => requireId(d, `departmentIds.${i}`));
    return departments.dailySales(ctx.services, { from, to, departmentIds: ids, productCode, byProduct });
  }
}
