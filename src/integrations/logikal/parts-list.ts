/**
 * Parser for Logikal parts-list files (one SQLite 3 database per elevation, delivered base64 in
 * the REST envelope). See docs reference logikal.md §c.
 *
 * The bytes come from a remote server and are treated as UNTRUSTED:
 * - size and the SQLite header are checked before SQLite ever sees them;
 * - the database is deserialized from the Buffer into memory (better-sqlite3 copies the bytes
 *   into an sqlite3_malloc'd block, see `Database::Deserialize`) read-only, with
 *   `query_only` on and `trusted_schema` off — no file, no path, no sidecars are ever created;
 * - only real tables are read (views, virtual tables and shadow tables are ignored, so a hostile
 *   schema cannot run a recursive view or a virtual-table module), virtual generated columns are
 *   never selected (their expressions would run on read), and scans use `NOT INDEXED`;
 * - every value is coerced defensively (text capped to the width of our DB column, NULs stripped,
 *   numbers parsed strictly) and the number of rows read per table is capped;
 * - every SQLite error becomes `PartsListError('corrupt')`.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

export interface ParsedPartsList {
  elevation: {
    autoDescription: string | null;
    autoDescriptionShort: string | null;
    widthOut: number | null;
    widthUnit: string | null;
    heightOut: number | null;
    heightUnit: string | null;
    weightOut: number | null;
    weightUnit: string | null;
    areaOutput: number | null;
    areaUnit: string | null;
    systemCode: string | null;
    systemName: string | null;
    systemLongName: string | null;
    colorBaseLong: string | null;
  };
  glass: Array<{ glassId: string; name: string | null }>;
  parts: Array<{
    kind: 'article' | 'profile';
    articleCode: string;
    description: string | null;
    color: string | null;
    amount: number | null;
    length: number | null;
    priceMinor: number | null;
  }>;
  /** SHA-256 (hex) of the file bytes exactly as received. */
  sha256: string;
  sizeBytes: number;
}

export type PartsListProblem = 'not_sqlite' | 'too_large' | 'empty_file' | 'missing_table' | 'no_elevation_row' | 'corrupt';

export class PartsListError extends Error {
  readonly problem: PartsListProblem;

  constructor(problem: PartsListProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PartsListError';
    this.problem = problem;
  }
}

export const MAX_PARTS_LIST_BYTES = 10 * 1024 * 1024;

/**
 * Caps on what one file may contribute. Text caps match the widths of the `elevations`,
 * `elevation_glass` and `elevation_parts` columns (migrations/20261122_0001_core.ts); free text
 * (descriptions, glass names) is capped at 4,000 characters. Real files hold ~32 articles,
 * ~21 profiles and 2 glass rows; rows beyond the caps are not read.
 */
export const PARTS_LIST_LIMITS = {
  freeText: 4000,
  unit: 32,
  code: 255,
  name: 255,
  longName: 512,
  glassId: 100,
  maxPartRowsPerTable: 10_000,
  maxGlassRows: 1_000,
} as const;

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const SQLITE_HEADER_BYTES = 100;

/** SHA-256 hex digest of the file bytes (what `elevations.parts_file_hash` stores). */
export function partsListHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Column aliases: first present wins, matched case-insensitively (so `Systemcode` = `SystemCode`).

const ELEVATION_COLUMNS = {
  autoDescription: ['AutoDescription'],
  autoDescriptionShort: ['AutoDescriptionShort'],
  widthOut: ['Width_Output', 'Width_Out'],
  widthUnit: ['Width_Unit'],
  heightOut: ['Height_Output', 'Heighth_Out', 'Height_Out', 'Heighth_Output'],
  heightUnit: ['Height_Unit', 'Heighth_Unit'],
  weightOut: ['Weight_Output', 'Weight_Out'],
  weightUnit: ['Weight_Unit'],
  areaOutput: ['Area_Output', 'Area_Out'],
  areaUnit: ['Area_Unit'],
  systemCode: ['SystemCode'],
  systemName: ['SystemName'],
  systemLongName: ['SystemLongName'],
  colorBaseLong: ['ColorBase_Long', 'ColorBaseLong'],
} as const satisfies Record<keyof ParsedPartsList['elevation'], readonly string[]>;

type ElevationKey = keyof typeof ELEVATION_COLUMNS;

const ELEVATION_KINDS: Record<ElevationKey, 'number' | number> = {
  autoDescription: PARTS_LIST_LIMITS.freeText,
  autoDescriptionShort: PARTS_LIST_LIMITS.freeText,
  widthOut: 'number',
  widthUnit: PARTS_LIST_LIMITS.unit,
  heightOut: 'number',
  heightUnit: PARTS_LIST_LIMITS.unit,
  weightOut: 'number',
  weightUnit: PARTS_LIST_LIMITS.unit,
  areaOutput: 'number',
  areaUnit: PARTS_LIST_LIMITS.unit,
  systemCode: PARTS_LIST_LIMITS.code,
  systemName: PARTS_LIST_LIMITS.name,
  systemLongName: PARTS_LIST_LIMITS.longName,
  colorBaseLong: PARTS_LIST_LIMITS.longName,
};

const PART_COLUMNS = {
  articleCode: ['ArticleCode'],
  description: ['Description'],
  color: ['Color', 'Colour'],
  amount: ['Amount'],
  length: ['Length'],
  price: ['Price'],
} as const;

// ---------------------------------------------------------------------------------------------
// Value coercion

/** Truncates to `max` UTF-16 code units without leaving half a surrogate pair behind. */
function capText(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return s.slice(0, end);
}

/** Text from any SQLite value: trimmed, NUL-free (PostgreSQL text rejects \0), capped; '' → null. */
export function coerceText(value: unknown, max: number): string | null {
  let s: string;
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    s = String(value);
  } else if (typeof value === 'bigint') s = value.toString();
  else if (Buffer.isBuffer(value)) {
    // Text stored as a BLOB: decode only as much as can survive the cap.
    s = value.subarray(0, Math.min(value.length, (max + 16) * 4)).toString('utf8');
  } else return null;
  // Cheap pre-cap so a multi-megabyte value is not scanned in full by the regexes below.
  if (s.length > max * 2 + 64) s = capText(s, max * 2 + 64);
  s = s.replace(/\0/g, '').trim();
  s = capText(s, max).trimEnd();
  return s === '' ? null : s;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Number from any SQLite value. Strings are parsed strictly: "2290", " 2,29 " (decimal comma),
 * "1.234,5" / "1,234.5" (thousands separators), "1 403" (space grouping). Anything else,
 * NaN and ±Infinity → null.
 */
export function coerceNumber(value: unknown): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string') {
    if (value.length > 64) return null;
    let s = value.replace(/[\s\u00a0\u202f']/g, '');
    if (s === '') return null;
    const lastComma = s.lastIndexOf(',');
    const lastDot = s.lastIndexOf('.');
    if (lastComma >= 0 && lastDot >= 0) {
      // Both present: whichever comes last is the decimal separator.
      s = lastComma > lastDot ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
    } else if (lastComma >= 0) {
      // One comma: decimal comma (Logikal is German software). Several: thousands separators.
      s = s.indexOf(',') === lastComma ? s.replace(',', '.') : s.replace(/,/g, '');
    }
    if (!NUMBER_RE.test(s)) return null;
    n = Number(s);
  } else return null;
  return Number.isFinite(n) ? n : null;
}

/** Price in major units → integer minor units, rounding half away from zero (1.005 → 101). */
export function toMinorUnits(price: number | null): number | null {
  if (price === null) return null;
  const cents = Number((Math.abs(price) * 100).toFixed(6));
  const minor = Math.sign(price) * Math.round(cents);
  if (!Number.isSafeInteger(minor)) return null;
  return minor === 0 ? 0 : minor; // no -0
}

// ---------------------------------------------------------------------------------------------
// Header checks (before SQLite sees the bytes)

function checkHeader(bytes: Buffer, maxBytes: number): Buffer {
  if (bytes.length === 0) throw new PartsListError('empty_file', 'parts list is empty (0 bytes)');
  if (bytes.length > maxBytes) {
    throw new PartsListError('too_large', `parts list is ${bytes.length} bytes, limit is ${maxBytes}`);
  }
  if (bytes.length < SQLITE_MAGIC.length || !bytes.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    throw new PartsListError('not_sqlite', 'parts list is not an SQLite 3 database (bad header magic)');
  }
  if (bytes.length < SQLITE_HEADER_BYTES) {
    throw new PartsListError('corrupt', `parts list is truncated (${bytes.length} bytes, header needs 100)`);
  }
  const rawPageSize = bytes.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new PartsListError('corrupt', `parts list has an invalid page size (${rawPageSize})`);
  }
  if (bytes.length % pageSize !== 0) {
    throw new PartsListError('corrupt', `parts list is truncated (${bytes.length} bytes is not a multiple of the ${pageSize}-byte page)`);
  }
  // The in-header page count is valid when the change counter matches version-valid-for.
  const headerPages = bytes.readUInt32BE(28);
  if (headerPages > 0 && bytes.readUInt32BE(24) === bytes.readUInt32BE(92) && headerPages > bytes.length / pageSize) {
    throw new PartsListError('corrupt', `parts list is truncated (header says ${headerPages} pages, file has ${bytes.length / pageSize})`);
  }
  const writeVersion = bytes[18];
  const readVersion = bytes[19];
  if (writeVersion === 2 || readVersion === 2) {
    // WAL-mode header (bytes 18/19 == 2). SQLite's in-memory VFS cannot open a WAL database
    // ("unable to open database file": memdb has no shared memory for the wal-index), so patch a
    // COPY of the header back to rollback-journal mode (1/1). We only ever receive the main file,
    // never the -wal sidecar, so no committed content is lost by this. The caller's Buffer (and
    // therefore the hash) is untouched.
    const copy = Buffer.from(bytes);
    copy[18] = 1;
    copy[19] = 1;
    return copy;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Schema resolution

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

interface TableInfo {
  /** Actual table name as stored. */
  name: string;
  /** lower-case column name → actual column name (readable columns only). */
  columns: Map<string, string>;
}

function listTables(db: Database.Database): Map<string, string> {
  // pragma_table_list reports 'table' | 'view' | 'virtual' | 'shadow': only plain tables are read.
  const rows = db
    .prepare(`SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'`)
    .raw(true)
    .all() as unknown[][];
  const byLower = new Map<string, string>();
  for (const [name] of rows) {
    if (typeof name === 'string' && !name.toLowerCase().startsWith('sqlite_')) byLower.set(name.toLowerCase(), name);
  }
  return byLower;
}

function describeTable(db: Database.Database, tables: Map<string, string>, wanted: string): TableInfo | null {
  const name = tables.get(wanted.toLowerCase());
  if (name === undefined) return null;
  const cols = db
    .prepare(`SELECT name, hidden FROM pragma_table_xinfo(?, 'main')`)
    .raw(true)
    .all(name) as unknown[][];
  const columns = new Map<string, string>();
  for (const [col, hidden] of cols) {
    // hidden: 0 normal, 1 hidden (virtual tables), 2 virtual generated (computed on read — a
    // hostile expression could be expensive), 3 stored generated (plain stored value: fine).
    if (typeof col !== 'string' || hidden === 1 || hidden === 2) continue;
    if (!columns.has(col.toLowerCase())) columns.set(col.toLowerCase(), col);
  }
  return { name, columns };
}

function resolveColumn(table: TableInfo, aliases: readonly string[]): string | null {
  for (const alias of aliases) {
    const actual = table.columns.get(alias.toLowerCase());
    if (actual !== undefined) return actual;
  }
  return null;
}

/** SELECT list with stable positional results; missing columns come back as NULL. */
function selectList(columns: Array<string | null>): string {
  return columns.map((c) => (c === null ? 'NULL' : quoteIdent(c))).join(', ');
}

// ---------------------------------------------------------------------------------------------
// Readers

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

function readElevation(db: Database.Database, table: TableInfo, elevationName: string): ParsedPartsList['elevation'] {
  const keys = Object.keys(ELEVATION_COLUMNS) as ElevationKey[];
  const cols = keys.map((k) => resolveColumn(table, ELEVATION_COLUMNS[k]));
  const from = `SELECT ${selectList(cols)} FROM ${quoteIdent(table.name)} NOT INDEXED`;
  const nameCol = resolveColumn(table, ['Name']);

  let row: unknown[] | undefined;
  const wanted = elevationName.trim();
  if (nameCol !== null && wanted !== '') {
    const n = quoteIdent(nameCol);
    // 1. exact name, 2. LIKE %name% (ASCII case-insensitive, wildcards in the name escaped).
    row = db.prepare(`${from} WHERE ${n} = ? LIMIT 1`).raw(true).get(elevationName) as unknown[] | undefined;
    if (row === undefined && wanted !== elevationName) {
      row = db.prepare(`${from} WHERE ${n} = ? LIMIT 1`).raw(true).get(wanted) as unknown[] | undefined;
    }
    if (row === undefined) {
      row = db
        .prepare(`${from} WHERE ${n} LIKE ? ESCAPE '\\' LIMIT 1`)
        .raw(true)
        .get(`%${escapeLike(wanted)}%`) as unknown[] | undefined;
    }
  }
  // 3. the first row in storage order.
  if (row === undefined) row = db.prepare(`${from} LIMIT 1`).raw(true).get() as unknown[] | undefined;
  if (row === undefined) throw new PartsListError('no_elevation_row', 'parts list has no row in table Elevations');

  const out: Record<string, string | number | null> = {};
  keys.forEach((k, i) => {
    const kind = ELEVATION_KINDS[k];
    out[k] = kind === 'number' ? coerceNumber(row[i]) : coerceText(row[i], kind);
  });
  return out as ParsedPartsList['elevation'];
}

function readGlass(db: Database.Database, table: TableInfo): ParsedPartsList['glass'] {
  const idCol = resolveColumn(table, ['GlassID', 'Glass_ID']);
  if (idCol === null) return [];
  const nameCol = resolveColumn(table, ['Name']);
  const rows = db
    .prepare(
      `SELECT ${selectList([idCol, nameCol])} FROM ${quoteIdent(table.name)} NOT INDEXED ` +
        `WHERE ${quoteIdent(idCol)} IS NOT NULL LIMIT ${PARTS_LIST_LIMITS.maxGlassRows}`,
    )
    .raw(true)
    .all() as unknown[][];
  const glass: ParsedPartsList['glass'] = [];
  for (const [id, name] of rows) {
    const glassId = coerceText(id, PARTS_LIST_LIMITS.glassId);
    if (glassId === null) continue;
    glass.push({ glassId, name: coerceText(name, PARTS_LIST_LIMITS.freeText) });
  }
  return glass;
}

function readParts(db: Database.Database, table: TableInfo | null, kind: 'article' | 'profile'): ParsedPartsList['parts'] {
  if (table === null) return [];
  const codeCol = resolveColumn(table, PART_COLUMNS.articleCode);
  if (codeCol === null) return [];
  const cols = [
    codeCol,
    resolveColumn(table, PART_COLUMNS.description),
    resolveColumn(table, PART_COLUMNS.color),
    resolveColumn(table, PART_COLUMNS.amount),
    resolveColumn(table, PART_COLUMNS.length),
    resolveColumn(table, PART_COLUMNS.price),
  ];
  const rows = db
    .prepare(
      `SELECT ${selectList(cols)} FROM ${quoteIdent(table.name)} NOT INDEXED ` +
        `WHERE ${quoteIdent(codeCol)} IS NOT NULL LIMIT ${PARTS_LIST_LIMITS.maxPartRowsPerTable}`,
    )
    .raw(true)
    .all() as unknown[][];
  const parts: ParsedPartsList['parts'] = [];
  for (const [code, description, color, amount, length, price] of rows) {
    const articleCode = coerceText(code, PARTS_LIST_LIMITS.code);
    if (articleCode === null) continue;
    parts.push({
      kind,
      articleCode,
      description: coerceText(description, PARTS_LIST_LIMITS.freeText),
      color: coerceText(color, PARTS_LIST_LIMITS.name),
      amount: coerceNumber(amount),
      length: coerceNumber(length),
      priceMinor: toMinorUnits(coerceNumber(price)),
    });
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------

/**
 * Parses one parts-list file. Throws `PartsListError` (never anything else) when the file cannot
 * be used; `problem` says why.
 */
export function parsePartsList(bytes: Buffer, opts: { elevationName: string; maxBytes?: number; /** the caller's partsListHash(bytes), to hash once */ sha256?: string }): ParsedPartsList {
  if (!Buffer.isBuffer(bytes)) throw new PartsListError('not_sqlite', 'parts list is not a byte buffer');
  // A missing or nonsensical limit (NaN, negative) falls back to the default, never to "no limit".
  const maxBytes = typeof opts.maxBytes === 'number' && opts.maxBytes >= 0 ? opts.maxBytes : MAX_PARTS_LIST_BYTES;
  const image = checkHeader(bytes, maxBytes);

  let db: Database.Database | undefined;
  try {
    db = new Database(image, { readonly: true });
    db.pragma('query_only = 1');
    db.pragma('trusted_schema = 0');
    db.pragma('cell_size_check = 1');

    const tables = listTables(db);
    const elevations = describeTable(db, tables, 'Elevations');
    const glassTable = describeTable(db, tables, 'Glass');
    const missing = [elevations ? null : 'Elevations', glassTable ? null : 'Glass'].filter((t) => t !== null);
    if (elevations === null || glassTable === null) {
      throw new PartsListError('missing_table', `parts list lacks required table(s): ${missing.join(', ')}`);
    }

    const elevation = readElevation(db, elevations, String(opts.elevationName ?? ''));
    const glass = readGlass(db, glassTable);
    const parts = [
      ...readParts(db, describeTable(db, tables, 'Articles'), 'article'),
      ...readParts(db, describeTable(db, tables, 'Profiles'), 'profile'),
    ];
    return { elevation, glass, parts, sha256: opts.sha256 ?? partsListHash(bytes), sizeBytes: bytes.length };
  } catch (err) {
    if (err instanceof PartsListError) throw err;
    const code = typeof (err as { code?: unknown })?.code === 'string' ? `${(err as { code: string }).code}: ` : '';
    // SQLite messages can quote names from the (hostile) schema: keep them short.
    const message = capText(err instanceof Error ? err.message : String(err), 300);
    throw new PartsListError('corrupt', `parts list cannot be read (${code}${message})`, { cause: err });
  } finally {
    db?.close();
  }
}
