import type { Knex } from 'knex';

/**
 * Case-insensitive substring match that treats `%`, `_` and `\\` in the user's text literally,
 * on SQLite and PostgreSQL alike. `column` is snake_case SQL (it goes into raw SQL).
 */
export function whereContains(q: Knex.QueryBuilder, column: string, text: string): Knex.QueryBuilder {
  return q.whereRaw(`lower(${column}) like ? escape '\\'`, [containsPattern(text)]);
}

export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
