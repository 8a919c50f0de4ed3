import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { toIso } from '../db/time';

/** An instant in UTC, serialised as ISO-8601 (`2026-11-22T10:00:00.000Z`). */
export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant in UTC as an ISO-8601 string, e.g. 2026-11-22T10:00:00.000Z',
  serialize: (v) => toIso(v),
  parseValue: (v) => parseInstant(v),
  parseLiteral: (ast) => (ast.kind === Kind.STRING ? parseInstant(ast.value) : invalid('DateTime', 'a string')),
});

/** A calendar day, `YYYY-MM-DD` (a business day in the source system's local calendar). */
export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  description: 'A calendar day as YYYY-MM-DD',
  serialize: (v) => String(v),
  parseValue: (v) => parseDay(v),
  parseLiteral: (ast) => (ast.kind === Kind.STRING ? parseDay(ast.value) : invalid('Date', 'a string')),
});

/** Counters and other flat maps of numbers, e.g. `{"elevations_synced": 17}`. */
export const CountersScalar = new GraphQLScalarType({
  name: 'Counters',
  description: 'A flat object of named integer counters, e.g. {"elevations_synced": 17}',
  serialize: (v) => v ?? {},
  parseValue: () => invalid('Counters', 'an output-only value'),
  parseLiteral: () => invalid('Counters', 'an output-only value'),
});

function invalid(name: string, expected: string): never {
  throw new GraphQLError(`${name} must be ${expected}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

function parseInstant(v: unknown): string {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) invalid('DateTime', 'an ISO-8601 string');
  return new Date(v as string).toISOString();
}

function parseDay(v: unknown): string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) invalid('Date', 'YYYY-MM-DD');
  return v as string;
}
