import { AppError } from '../errors';

/** A required id argument: like parseId, but an empty value is a BAD_USER_INPUT too. */
export function requireId(value: string | number | null | undefined, field: string): number {
  const id = parseId(value, field);
  if (id === null) throw AppError.badInput(`"${field}" is required`, [{ field, message: 'required' }]);
  return id;
}

/** GraphQL IDs arrive as strings; ours are positive integers. */
export function parseId(value: string | number | null | undefined, field: string): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw AppError.badInput(`"${field}" must be a positive integer id`, [{ field, message: `got ${JSON.stringify(value)}` }]);
  }
  return n;
}
