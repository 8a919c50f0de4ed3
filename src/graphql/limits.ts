/**
 * Depth and complexity limits, checked before execution for HTTP (Apollo plugin) and
 * graphql-ws alike. Introspection fields (`__schema`, `__type`) are exempt: GraphiQL's own
 * introspection query is deep but cheap.
 */
import {
  GraphQLError, Kind, getNamedType, getNullableType, isListType, type DocumentNode, type FragmentDefinitionNode,
  type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from '../services/pagination';

/** Assumed length of an unpaginated list (phases of a project, glass of an elevation…). */
export const LIST_FACTOR = 10;

export interface Limits {
  maxDepth: number;
  maxComplexity: number;
}

function depthOf(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue;
      max = Math.max(max, 1 + depthOf(sel.selectionSet, fragments, seen));
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(sel.selectionSet, fragments, seen));
    } else {
      const name = sel.name.value;
      if (seen.has(name)) continue; // cycles are a validation error reported elsewhere
      const frag = fragments.get(name);
      max = Math.max(max, depthOf(frag?.selectionSet, fragments, new Set([...seen, name])));
    }
  }
  return max;
}

/** Connections multiply by their page size, plain lists by LIST_FACTOR, `edges` by nothing. */
const estimator: ComplexityEstimator = ({ field, type, args, childComplexity }) => {
  if (field.name.startsWith('__')) return 0;
  const size = (args.first ?? args.last) as number | undefined;
  if (type.name.endsWith('Connection')) return childComplexity; // edges/pageInfo: counted at the connection field
  if (getNamedType(field.type).name.endsWith('Connection')) return 1 + (size ?? DEFAULT_PAGE_SIZE) * childComplexity;
  if (isListType(getNullableType(field.type))) return 1 + LIST_FACTOR * childComplexity;
  return 1 + childComplexity;
};

/** Throws a GraphQLError (code QUERY_TOO_DEEP / QUERY_TOO_COMPLEX, HTTP 400) when over a limit. */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits: Limits,
): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const depth = depthOf(operation.selectionSet, fragments, new Set());
  if (depth > limits.maxDepth) {
    throw new GraphQLError(`Query is ${depth} levels deep; the limit is ${limits.maxDepth}`, {
      extensions: { code: 'QUERY_TOO_DEEP', depth, maxDepth: limits.maxDepth, http: { status: 400 } },
    });
  }
  let complexity: number;
  try {
    complexity = getComplexity({ schema, query: document, operationName: operation.name?.value, variables, estimators: [estimator] });
  } catch (e) {
    // getComplexity coerces variables; a wrongly typed variable is the caller's error.
    throw new GraphQLError((e as Error).message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
  }
  if (complexity > limits.maxComplexity) {
    throw new GraphQLError(
      `Query complexity ${complexity} exceeds the limit ${limits.maxComplexity}; ask for smaller pages (first/last) or fewer nested lists`,
      { extensions: { code: 'QUERY_TOO_COMPLEX', complexity, maxComplexity: limits.maxComplexity, http: { status: 400 } } },
    );
  }
}
