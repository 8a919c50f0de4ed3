/**
 * Relay connection types. `connectionOf(Node)` makes `<Node>Connection` and `<Node>Edge` with
 * the spec's fields; resolvers return the `Page` the services build (src/services/pagination.ts).
 */
import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import type { Page } from '../services/pagination';

@ObjectType({ description: 'Relay page info' })
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => Boolean) hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ArgsType()
export class PageArgsGql {
  @Field(() => Int, { nullable: true, description: 'Page size from the start (default 50, at most 500)' })
  first?: number | null;
  @Field(() => String, { nullable: true, description: 'Cursor to continue after' })
  after?: string | null;
  @Field(() => Int, { nullable: true, description: 'Page size from the end (at most 500)' })
  last?: number | null;
  @Field(() => String, { nullable: true, description: 'Cursor to continue before' })
  before?: string | null;
}

export interface ConnectionShape<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
  totalCount(): Promise<number>;
}

export function connectionOf<T extends object>(node: ClassType<T>, name: string): ClassType<ConnectionShape<T>> {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String) cursor!: string;
    @Field(() => node) node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Connection implements ConnectionShape<T> {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    private page!: Page<T>;

    @Field(() => Int, { description: 'Rows matching the filter (counted only when asked for)' })
    totalCount(): Promise<number> {
      return this.page.totalCount();
    }

    static from(page: Page<T>): Connection {
      const c = new Connection();
      c.edges = page.edges;
      c.pageInfo = page.pageInfo;
      c.page = page;
      return c;
    }
  }
  return Connection;
}

/** Wraps a service Page into a connection object type-graphql can resolve. */
export function toConnection<T extends object>(type: ClassType<ConnectionShape<T>>, page: Page<T>): ConnectionShape<T> {
  return (type as unknown as { from(p: Page<T>): ConnectionShape<T> }).from(page);
}
