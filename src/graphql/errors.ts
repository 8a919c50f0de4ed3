/**
 * Maps errors to what a GraphQL client sees: our AppErrors keep their code and safe details,
 * GraphQL's own errors keep theirs, anything else becomes an opaque INTERNAL_SERVER_ERROR
 * (logged with its stack, never sent).
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { isAppError } from '../errors';
import type { Logger } from '../logger';

export function formatGraphQLError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Resolver errors and errors raised while setting up a subscription both carry ours inside.
    const unwrapped = unwrapResolverError(error);
    const original = isAppError(unwrapped) ? unwrapped : error instanceof GraphQLError && isAppError(error.originalError) ? error.originalError : unwrapped;
    if (isAppError(original)) {
      return {
        ...formatted,
        message: original.message,
        extensions: { ...(original.details ?? {}), code: original.code },
      };
    }
    const code = formatted.extensions?.code;
    if (original instanceof GraphQLError || (code && code !== 'INTERNAL_SERVER_ERROR')) {
      // Stacktraces are for logs only.
      const { stacktrace: _s, ...ext } = formatted.extensions ?? {};
      return { ...formatted, extensions: ext };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
