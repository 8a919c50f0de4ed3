/**
 * Timestamps are stored in UTC on both databases: timestamptz on PostgreSQL, ISO-8601 text on
 * SQLite (which sorts correctly as text). The application sees ISO-8601 strings everywhere.
 */
export function nowIso(): string {
  return new Date().toISOString();
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function toIso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return new Date(value).toISOString();
  const s = String(value);
  if (ISO_UTC.test(s)) return s; // the common case on both databases: already canonical
  // SQLite may hold 'YYYY-MM-DD HH:MM:SS' from CURRENT_TIMESTAMP defaults: that is UTC.
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(s)) return `${s.replace(' ', 'T')}.000Z`;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
}

/** Lower-case a GUID and strip the braces Logikal writes inside parts-list files. */
export function normalizeGuid(guid: string): string {
  return guid.trim().replace(/^\{|\}$/g, '').toLowerCase();
}

export const NULL_GUID = '00000000-0000-0000-0000-000000000000';
