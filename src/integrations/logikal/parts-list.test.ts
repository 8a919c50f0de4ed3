import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, it, expect } from 'vitest';
import {
  buildPartsList,
  partsListContent,
  PARTS_LIST_TABLE_COUNT,
  type PartsListSpec,
} from './parts-list-fixture';
import {
  coerceNumber,
  coerceText,
  MAX_PARTS_LIST_BYTES,
  parsePartsList,
  partsListHash,
  PartsListError,
  toMinorUnits,
  type PartsListProblem,
} from './parts-list';

const SPEC: PartsListSpec = {
  projectGuid: '15782e4d-a69c-4ce5-9c17-d3060a039b2d',
  projectName: 'DOS22410',
  phaseGuid: '00000000-0000-0000-0000-000000000000',
  elevationGuid: '9b1f0c2e-7a3d-4f55-8e21-0c6d4b2a9f10',
  elevationName: 'P03',
  systemName: 'Reynaers MasterLine 8',
  systemCode: 'ML 8',
  widthMm: 2290,
  heightMm: 1403,
};

/** Small files keep the suite quick; one test covers the default 1.7 MB size. */
const SMALL = 400 * 4096;

function problemOf(fn: () => unknown): PartsListProblem | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof PartsListError) return err.problem;
    throw err; // anything else is a bug: surface it
  }
}

/** An ad-hoc database built by `setup`, serialized to bytes. */
function customDb(setup: (db: Database.Database) => void): Buffer {
  const db = new Database(':memory:');
  try {
    setup(db);
    return db.serialize();
  } finally {
    db.close();
  }
}

function tableColumns(bytes: Buffer, table: string): string[] {
  const db = new Database(bytes, { readonly: true });
  try {
    return (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]);
  } finally {
    db.close();
  }
}

describe('buildPartsList (fixture generator)', () => {
  it('writes 71 tables, ≈ targetBytes in whole 4096-byte pages, with braced upper-case GUIDs', () => {
    const bytes = buildPartsList(SPEC);
    expect(bytes.length).toBe(1_720_320);
    expect(bytes.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    const db = new Database(bytes, { readonly: true });
    try {
      const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).pluck().all() as string[];
      expect(tables).toHaveLength(PARTS_LIST_TABLE_COUNT);
      for (const t of ['Projects', 'Phases', 'Elevations', 'Articles', 'Profiles', 'Glass', 'Insertions', 'LabourTimes',
        'LabourCosts', 'CalcDetailItems', 'CalcItemNames', 'MountingLines', 'UValue', 'Colors', 'ElevationCE',
        'Suppliers', 'Manufacturers']) {
        expect(tables).toContain(t);
      }
      let rows = 0;
      for (const t of tables) rows += db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number;
      expect(rows).toBeGreaterThanOrEqual(550);
      expect(rows).toBeLessThanOrEqual(1000);
      expect(db.prepare('SELECT count(*) FROM Articles').pluck().get()).toBe(32);
      expect(db.prepare('SELECT count(*) FROM Profiles').pluck().get()).toBe(21);
      expect(db.prepare('SELECT count(*) FROM Glass').pluck().get()).toBe(2);
      expect(db.prepare('SELECT ProjectID FROM Projects').pluck().get()).toBe('{15782E4D-A69C-4CE5-9C17-D3060A039B2D}');
      expect(db.prepare('SELECT ElevationID FROM Elevations').pluck().get()).toBe('{9B1F0C2E-7A3D-4F55-8E21-0C6D4B2A9F10}');
    } finally {
      db.close();
    }
    const small = buildPartsList({ ...SPEC, targetBytes: 716_800 });
    expect(small.length).toBe(716_800);
  });

  it('is deterministic: same spec → identical bytes and hash; another seed → other bytes', () => {
    const a = buildPartsList({ ...SPEC, targetBytes: SMALL });
    const b = buildPartsList({ ...SPEC, targetBytes: SMALL });
    expect(a.equals(b)).toBe(true);
    expect(partsListHash(a)).toBe(partsListHash(b));
    expect(partsListHash(a)).toBe(createHash('sha256').update(a).digest('hex'));
    expect(partsListHash(a)).toMatch(/^[0-9a-f]{64}$/);
    const c = buildPartsList({ ...SPEC, targetBytes: SMALL, seed: 42 });
    expect(partsListHash(c)).not.toBe(partsListHash(a));
  });

  it('writes the production and the legacy column spellings', () => {
    const out = tableColumns(buildPartsList({ ...SPEC, targetBytes: SMALL }), 'Elevations');
    expect(out).toEqual(expect.arrayContaining(['Width_Output', 'Height_Output', 'Height_Unit', 'Weight_Output', 'SystemCode']));
    const legacy = tableColumns(buildPartsList({ ...SPEC, targetBytes: SMALL, spelling: 'legacy' }), 'Elevations');
    expect(legacy).toEqual(expect.arrayContaining(['Width_Out', 'Heighth_Out', 'Heighth_Unit', 'Weight_Out', 'Systemcode']));
    expect(legacy).not.toContain('Width_Output');
  });
});

describe('parsePartsList', () => {
  it('round-trips a generated file (production spelling, default 1.7 MB)', () => {
    const bytes = buildPartsList(SPEC);
    const parsed = parsePartsList(bytes, { elevationName: 'P03' });
    const expected = partsListContent(SPEC);
    expect(parsed.elevation).toEqual(expected.elevation);
    expect(parsed.elevation).toMatchObject({ widthOut: 2290, widthUnit: 'mm', heightOut: 1403, systemName: 'Reynaers MasterLine 8', systemCode: 'ML 8' });
    expect(parsed.glass).toEqual(expected.glass);
    expect(parsed.glass).toHaveLength(2);
    expect(parsed.parts).toEqual(expected.parts);
    expect(parsed.parts.filter((p) => p.kind === 'article')).toHaveLength(32);
    expect(parsed.parts.filter((p) => p.kind === 'profile')).toHaveLength(21);
    for (const p of parsed.parts.filter((x) => x.kind === 'profile')) {
      expect(Number.isInteger(p.priceMinor)).toBe(true);
      expect(p.length).toBeGreaterThan(0);
    }
    expect(parsed.sizeBytes).toBe(bytes.length);
    expect(parsed.sha256).toBe(partsListHash(bytes));
  });

  it('round-trips the legacy spelling to the same result', () => {
    const spec = { ...SPEC, targetBytes: SMALL, spelling: 'legacy' as const };
    const parsed = parsePartsList(buildPartsList(spec), { elevationName: 'P03' });
    const expected = partsListContent(spec);
    expect(parsed.elevation).toEqual(expected.elevation);
    expect(parsed.elevation).toEqual(partsListContent({ ...SPEC, targetBytes: SMALL }).elevation);
    expect(parsed.glass).toEqual(expected.glass);
    expect(parsed.parts).toEqual(expected.parts);
  });

  it('multi-row: picks the exact name, then a LIKE match, then the first row', () => {
    const spec = { ...SPEC, targetBytes: SMALL, variant: 'multi-row' as const };
    const bytes = buildPartsList(spec);
    const db = new Database(bytes, { readonly: true });
    const names = db.prepare('SELECT Name FROM Elevations').pluck().all();
    db.close();
    expect(names).toEqual(['P01', 'P03a', 'P03']);

    const exact = parsePartsList(bytes, { elevationName: 'P03' });
    expect(exact.elevation).toEqual(partsListContent(spec).elevation);
    expect(exact.elevation.widthOut).toBe(2290);

    const like = parsePartsList(bytes, { elevationName: 'p03A' }); // no exact row: LIKE is case-insensitive
    expect(like.elevation.widthOut).toBe(2290 + 120);
    expect(like.elevation.systemName).not.toBe('Reynaers MasterLine 8');

    const first = parsePartsList(bytes, { elevationName: 'P77' });
    expect(first.elevation.widthOut).toBe(2290 + 610);

    // LIKE wildcards in the wanted name are literal.
    expect(parsePartsList(bytes, { elevationName: '%' }).elevation.widthOut).toBe(2290 + 610);
  });

  it('missing Glass table → missing_table; empty Elevations → no_elevation_row', () => {
    expect(problemOf(() => parsePartsList(buildPartsList({ ...SPEC, targetBytes: SMALL, variant: 'missing-glass' }), { elevationName: 'P03' })))
      .toBe('missing_table');
    expect(problemOf(() => parsePartsList(buildPartsList({ ...SPEC, targetBytes: SMALL, variant: 'empty-elevations' }), { elevationName: 'P03' })))
      .toBe('no_elevation_row');
    const noElevations = customDb((db) => db.exec('CREATE TABLE Glass (GlassID TEXT, Name TEXT)'));
    expect(problemOf(() => parsePartsList(noElevations, { elevationName: 'P03' }))).toBe('missing_table');
  });

  it('empty → empty_file; over the limit → too_large', () => {
    expect(problemOf(() => parsePartsList(Buffer.alloc(0), { elevationName: 'P03' }))).toBe('empty_file');
    const bytes = buildPartsList({ ...SPEC, targetBytes: SMALL });
    expect(problemOf(() => parsePartsList(bytes, { elevationName: 'P03', maxBytes: bytes.length - 1 }))).toBe('too_large');
    expect(problemOf(() => parsePartsList(bytes, { elevationName: 'P03', maxBytes: bytes.length }))).toBe('ok');
    const huge = Buffer.alloc(MAX_PARTS_LIST_BYTES + 1);
    bytes.copy(huge, 0, 0, 100);
    expect(problemOf(() => parsePartsList(huge, { elevationName: 'P03' }))).toBe('too_large');
  });

  it('random bytes, a PNG, text and truncated SQLite files → not_sqlite or corrupt, never a crash', () => {
    const bytes = buildPartsList({ ...SPEC, targetBytes: SMALL });
    let x = 12345;
    const random = Buffer.alloc(64 * 1024);
    for (let i = 0; i < random.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      random[i] = x >>> 24;
    }
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      Buffer.from('IHDR'),
      random.subarray(0, 4096),
    ]);
    expect(problemOf(() => parsePartsList(random, { elevationName: 'P03' }))).toBe('not_sqlite');
    expect(problemOf(() => parsePartsList(png, { elevationName: 'P03' }))).toBe('not_sqlite');
    expect(problemOf(() => parsePartsList(Buffer.from('{"error":"not found"}'), { elevationName: 'P03' }))).toBe('not_sqlite');
    expect(problemOf(() => parsePartsList(Buffer.from(bytes.toString('base64')), { elevationName: 'P03' }))).toBe('not_sqlite');
    expect(problemOf(() => parsePartsList(Buffer.from('SQLite format 3'), { elevationName: 'P03' }))).toBe('not_sqlite');

    const truncations = [16, 50, 100, 4096, 8192, 50_000, 40 * 4096, bytes.length - 4096, bytes.length - 1];
    for (const len of truncations) {
      expect([len, problemOf(() => parsePartsList(bytes.subarray(0, len), { elevationName: 'P03' }))]).toEqual([len, 'corrupt']);
    }
    // Truncated on a page boundary with the in-header page count cleared: SQLite itself must notice.
    const sneaky = Buffer.from(bytes.subarray(0, 12 * 4096));
    sneaky.writeUInt32BE(0, 28);
    expect(['corrupt', 'not_sqlite']).toContain(problemOf(() => parsePartsList(sneaky, { elevationName: 'P03' })));
    // A valid header followed by garbage pages.
    const garbage = Buffer.concat([bytes.subarray(0, 100), random.subarray(100, 16 * 4096)]);
    garbage.writeUInt32BE(16, 28);
    expect(problemOf(() => parsePartsList(garbage, { elevationName: 'P03' }))).toBe('corrupt');
  });

  it('survives bit-flipped files: either parses or throws PartsListError', () => {
    const bytes = buildPartsList({ ...SPEC, targetBytes: 100 * 4096 });
    let x = 987654321;
    const next = (): number => {
      x = (x * 1664525 + 1013904223) >>> 0;
      return x;
    };
    const seen = new Set<string>();
    for (let round = 0; round < 150; round++) {
      const copy = Buffer.from(bytes);
      // Corrupt the schema and the first data pages, where it hurts most.
      for (let k = 0; k < 8; k++) copy[100 + (next() % (24 * 4096))] = next() & 0xff;
      seen.add(problemOf(() => parsePartsList(copy, { elevationName: 'P03' })));
    }
    for (const p of seen) expect(['ok', 'corrupt', 'missing_table', 'no_elevation_row', 'not_sqlite']).toContain(p);
  });

  it('parses a WAL-mode header without touching the caller’s bytes', () => {
    const bytes = buildPartsList({ ...SPEC, targetBytes: SMALL, journalMode: 'wal' });
    expect([bytes[18], bytes[19]]).toEqual([2, 2]);
    const before = partsListHash(bytes);
    const parsed = parsePartsList(bytes, { elevationName: 'P03' });
    expect(parsed.elevation).toEqual(partsListContent(SPEC).elevation);
    expect(parsed.parts).toHaveLength(53);
    expect([bytes[18], bytes[19]]).toEqual([2, 2]);
    expect(parsed.sha256).toBe(before);
    expect(partsListHash(bytes)).toBe(before);
  });

  it('treats hostile names as data: no file is created from remote content', () => {
    const marker = `parts-list-hostile-${process.pid}-${Date.now()}`;
    const hostileNames = ['../../etc/passwd', `../../../tmp/${marker}`, `/tmp/${marker}.db`, `file:${marker}?mode=rwc`];
    for (const name of hostileNames) {
      const bytes = customDb((db) => {
        db.exec('CREATE TABLE Elevations (Name TEXT, SystemName TEXT, Width_Output REAL)');
        db.exec('CREATE TABLE Glass (GlassID TEXT, Name TEXT)');
        db.prepare('INSERT INTO Elevations VALUES (?, ?, ?)').run(name, name, 1000);
        db.prepare('INSERT INTO Glass VALUES (?, ?)').run(name, name);
      });
      const parsed = parsePartsList(bytes, { elevationName: name });
      expect(parsed.elevation.systemName).toBe(name);
      expect(parsed.glass).toEqual([{ glassId: name.slice(0, 100), name }]);
    }
    for (const dir of [process.cwd(), os.tmpdir(), '/tmp']) {
      expect(fs.readdirSync(dir).filter((f) => f.includes(marker))).toEqual([]);
    }
    expect(fs.existsSync(path.resolve(process.cwd(), `${marker}.db`))).toBe(false);
  });

  it('caps text, strips NULs, coerces numbers and skips rows without keys', () => {
    const big = 'x'.repeat(100_000);
    const bytes = customDb((db) => {
      // Lower-case table and column names: resolution is case-insensitive.
      db.exec(`CREATE TABLE elevations (name TEXT, autodescription TEXT, width_out TEXT, heighth_out TEXT, heighth_unit TEXT,
        weight_output TEXT, area_output TEXT, systemcode TEXT, systemname TEXT, systemlongname TEXT, colorbase_long BLOB)`);
      db.prepare('INSERT INTO elevations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        'P03', big, '2290', ' 1,403 ', big, 'abc', 'NaN', big, `Reynaers\0 MasterLine 8`, '   ', Buffer.from('RAL 9016'),
      );
      db.exec('CREATE TABLE GLASS (GLASSID TEXT, NAME TEXT)');
      const g = db.prepare('INSERT INTO GLASS VALUES (?, ?)');
      g.run('  7  ', big);
      g.run(null, 'no id');
      g.run('', 'empty id');
      g.run(big, 'long id');
      g.run(12n, null); // INTEGER, stored as '12' by TEXT affinity
      db.exec('CREATE TABLE Articles (ArticleCode TEXT, Description TEXT, Amount TEXT, Color TEXT)');
      const a = db.prepare('INSERT INTO Articles VALUES (?, ?, ?, ?)');
      a.run('A-1', big, '2,5', 'RAL 9016');
      a.run(null, 'skipped', 1, null);
      a.run('   ', 'skipped too', 1, null);
      a.run('A-2', null, Buffer.from([1, 2, 3]), big);
      db.exec('CREATE TABLE Profiles (ArticleCode TEXT, Description TEXT, Length TEXT, Color TEXT, Price TEXT)');
      const p = db.prepare('INSERT INTO Profiles VALUES (?, ?, ?, ?, ?)');
      p.run('P-1', 'Blendrahmen', '2.29', null, '12,345');
      p.run('P-2', 'Riegel', 'Infinity', null, '1.005');
      p.run('P-3', 'Pfosten', '1e400', null, 'x');
    });
    const parsed = parsePartsList(bytes, { elevationName: 'P03' });
    expect(parsed.elevation.autoDescription).toHaveLength(4000);
    expect(parsed.elevation.widthOut).toBe(2290);
    expect(parsed.elevation.heightOut).toBe(1.403);
    expect(parsed.elevation.heightUnit).toHaveLength(32);
    expect(parsed.elevation.weightOut).toBeNull();
    expect(parsed.elevation.areaOutput).toBeNull();
    expect(parsed.elevation.systemCode).toHaveLength(255);
    expect(parsed.elevation.systemName).toBe('Reynaers MasterLine 8');
    expect(parsed.elevation.systemLongName).toBeNull();
    expect(parsed.elevation.colorBaseLong).toBe('RAL 9016');
    expect(parsed.elevation.widthUnit).toBeNull(); // column absent
    expect(parsed.glass).toEqual([
      { glassId: '7', name: 'x'.repeat(4000) },
      { glassId: 'x'.repeat(100), name: 'long id' },
      { glassId: '12', name: null },
    ]);
    expect(parsed.parts).toEqual([
      { kind: 'article', articleCode: 'A-1', description: 'x'.repeat(4000), color: 'RAL 9016', amount: 2.5, length: null, priceMinor: null },
      { kind: 'article', articleCode: 'A-2', description: null, color: 'x'.repeat(255), amount: null, length: null, priceMinor: null },
      { kind: 'profile', articleCode: 'P-1', description: 'Blendrahmen', color: null, amount: null, length: 2.29, priceMinor: 1235 },
      { kind: 'profile', articleCode: 'P-2', description: 'Riegel', color: null, amount: null, length: null, priceMinor: 101 },
      { kind: 'profile', articleCode: 'P-3', description: 'Pfosten', color: null, amount: null, length: null, priceMinor: null },
    ]);
  });

  it('tolerates missing optional tables and columns', () => {
    const bytes = customDb((db) => {
      db.exec('CREATE TABLE Elevations (Something TEXT)');
      db.exec("INSERT INTO Elevations VALUES ('x')");
      db.exec('CREATE TABLE Glass (Name TEXT)');
      db.exec("INSERT INTO Glass VALUES ('no id column')");
      db.exec('CREATE TABLE Profiles (Description TEXT)'); // no ArticleCode column
    });
    const parsed = parsePartsList(bytes, { elevationName: 'P03' });
    expect(Object.values(parsed.elevation).every((v) => v === null)).toBe(true);
    expect(parsed.glass).toEqual([]);
    expect(parsed.parts).toEqual([]);
  });

  it('ignores views, virtual tables and virtual generated columns (no hostile code runs)', () => {
    // A recursive view posing as Elevations would never end if it were queried.
    const viewFile = customDb((db) => {
      db.exec(`CREATE VIEW Elevations AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n AS Name FROM r`);
      db.exec('CREATE TABLE Glass (GlassID TEXT)');
    });
    expect(problemOf(() => parsePartsList(viewFile, { elevationName: 'P03' }))).toBe('missing_table');

    const virtualFile = customDb((db) => {
      db.exec('CREATE VIRTUAL TABLE Elevations USING fts5(Name, SystemName)');
      db.exec("INSERT INTO Elevations VALUES ('P03', 'x')");
      db.exec('CREATE TABLE Glass (GlassID TEXT)');
    });
    expect(problemOf(() => parsePartsList(virtualFile, { elevationName: 'P03' }))).toBe('missing_table');

    // A virtual generated column is computed on read (it could build a huge string). Here its
    // expression calls a function that only exists while the file is built: reading the column
    // fails, so a parse that succeeds proves the expression never ran.
    const generated = customDb((db) => {
      db.function('boom', { deterministic: true }, () => 'computed');
      db.exec(`CREATE TABLE Elevations (Name TEXT, SystemName TEXT, AutoDescription TEXT GENERATED ALWAYS AS (boom()) VIRTUAL)`);
      db.exec("INSERT INTO Elevations (Name, SystemName) VALUES ('P03', 'ML 8')");
      db.exec('CREATE TABLE Glass (GlassID TEXT)');
    });
    const naive = new Database(generated, { readonly: true });
    expect(() => naive.prepare('SELECT AutoDescription FROM Elevations').all()).toThrow(/boom/);
    naive.close();
    const parsed = parsePartsList(generated, { elevationName: 'P03' });
    expect(parsed.elevation.autoDescription).toBeNull();
    expect(parsed.elevation.systemName).toBe('ML 8');
  });
});

describe('value coercion', () => {
  it('coerces numbers strictly', () => {
    expect(coerceNumber(2290)).toBe(2290);
    expect(coerceNumber('2290')).toBe(2290);
    expect(coerceNumber('2,29')).toBe(2.29);
    expect(coerceNumber('1.234,5')).toBe(1234.5);
    expect(coerceNumber('1,234.5')).toBe(1234.5);
    expect(coerceNumber('1,234,567')).toBe(1234567);
    expect(coerceNumber('1 403')).toBe(1403);
    expect(coerceNumber('-0.5')).toBe(-0.5);
    expect(coerceNumber(10n)).toBe(10);
    for (const bad of ['', ' ', 'abc', '12abc', 'NaN', 'Infinity', '1e999', '0x10', NaN, Infinity, null, undefined, Buffer.from('1'), {}]) {
      expect(coerceNumber(bad)).toBeNull();
    }
  });

  it('rounds prices to integer minor units', () => {
    expect(toMinorUnits(889.84)).toBe(88984);
    expect(toMinorUnits(1.005)).toBe(101);
    expect(toMinorUnits(-1.005)).toBe(-101);
    expect(toMinorUnits(-0.001)).toBe(0);
    expect(Object.is(toMinorUnits(-0.001), -0)).toBe(false);
    expect(toMinorUnits(null)).toBeNull();
    expect(toMinorUnits(1e300)).toBeNull();
  });

  it('caps text without splitting surrogate pairs', () => {
    expect(coerceText(`${'a'.repeat(3)}😀`, 4)).toBe('aaa');
    expect(coerceText('  a\0b  ', 10)).toBe('ab');
    expect(coerceText(12.5, 10)).toBe('12.5');
    expect(coerceText('', 10)).toBeNull();
  });
});
