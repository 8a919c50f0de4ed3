import { Arg, Args, Authorized, Ctx, Field, ID, InputType, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { PageArgsGql, toConnection } from '../graphql/connection';
import { parseId } from '../graphql/ids';
import { DateScalar } from '../graphql/scalars';
import { ForecastConnection, Product, ProductConnection } from '../graphql/types';
import * as commerce from '../services/commerce';

@InputType()
export class ProductFilter {
  @Field(() => String, { nullable: true, description: 'Substring of name or SKU' }) search?: string | null;
  @Field(() => String, { nullable: true }) sku?: string | null;
  @Field(() => String, { nullable: true, description: 'One of the product’s EAN codes' }) ean?: string | null;
}

@InputType()
export class ForecastFilter {
  @Field(() => ID, { nullable: true }) departmentId?: string | null;
  @Field(() => String, { nullable: true }) productCode?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Only department totals (productCode null)' }) totalOnly?: boolean | null;
  @Field(() => DateScalar, { nullable: true }) from?: string | null;
  @Field(() => DateScalar, { nullable: true }) to?: string | null;
}

@Resolver()
export class CommerceResolver {
  @Authorized('read')
  @Query(() => ProductConnection)
  async products(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgsGql) page: PageArgsGql,
    @Arg('filter', () => ProductFilter, { nullable: true }) filter?: ProductFilter,
  ) {
    return toConnection(ProductConnection, await commerce.listProducts(ctx.services, filter ?? {}, page));
  }

  @Authorized('read')
  @Query(() => Product)
  product(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('sku', () => String, { nullable: true }) sku?: string,
  ) {
    return commerce.getProduct(ctx.services, { id: parseId(id, 'id'), sku });
  }

  @Authorized('read')
  @Query(() => ForecastConnection, { description: 'Sales forecasts by day' })
  async forecasts(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgsGql) page: PageArgsGql,
    @Arg('filter', () => ForecastFilter, { nullable: true }) filter?: ForecastFilter,
  ) {
    const f = filter ? { ...filter, departmentId: parseId(filter.departmentId, 'filter.departmentId') } : {};
    return toConnection(ForecastConnection, await commerce.listForecasts(ctx.services, f, page));
  }
}
