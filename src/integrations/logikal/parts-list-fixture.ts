/**
 * Generator of realistic Logikal parts-list files (one SQLite 3 database per elevation), for the
 * Logikal simulator, tests, benchmarks and the demo. Follows reference logikal.md §c.4:
 *
 * - the 17 tables named in the reference with the columns it lists (TEXT codes/names/units/GUIDs,
 *   REAL measures and money, INTEGER ids), GUIDs written upper-case in braces;
 * - `Elevations` with the elevation's row (variant `multi-row` puts two differently named rows
 *   FIRST: an unrelated name, then a name that merely contains the wanted one, so a parser that
 *   takes the first row or a LIKE match before the exact match is caught);
 * - 2 `Glass` rows, 32 `Articles`, 21 `Profiles` (Length in m, Price in EUR), the other tables
 *   filled to the sample counts, clearly synthetic filler tables (`Synthetic_Filler_NN`) up to
 *   71 tables in total, and padding blobs in the last filler so the file is ≈ `targetBytes`
 *   (always a multiple of the 4096-byte page, like the real files).
 *
 * Output is deterministic for a given spec (and SQLite version). `partsListContent(spec)` returns
 * what a correct parser must extract from the file, so tests and the simulator can compare.
 */
import { mulberry32 } from '../../util/prng';
import Database from 'better-sqlite3';
import type { ParsedPartsList } from './parts-list';

export interface PartsListSpec {
  projectGuid: string;
  projectName: string;
  phaseGuid: string;
  elevationGuid: string;
  elevationName: string;
  systemName: string;
  systemCode: string;
  widthMm: number;
  heightMm: number;
  colorBaseLong?: string;
  /** Approximate file size; real files are 0.5–2 MB (samples 716,800 and 1,720,320 bytes). Default 1_720_320. */
  targetBytes?: number;
  /** 'output' = production spelling (Width_Output, Height_Output, SystemCode…), 'legacy' = Width_Out, Heighth_Out, Heighth_Unit, Weight_Out, Systemcode. */
  spelling?: 'output' | 'legacy';
  /** Deterministic content. Default: derived from elevationGuid + elevationName. */
  seed?: number;
  variant?: 'normal' | 'multi-row' | 'missing-glass' | 'empty-elevations';
  /**
   * 'wal' writes bytes 18/19 of the header as 2 (WAL mode), as the real files probably have
   * (they shipped with -wal/-shm sidecars). Default 'delete' (bytes 1/1).
   */
  journalMode?: 'delete' | 'wal';
}

/** What a parser must extract from `buildPartsList(spec)` (for variants that have an elevation row and glass). */
export interface PartsListContent {
  elevation: ParsedPartsList['elevation'];
  glass: ParsedPartsList['glass'];
  parts: ParsedPartsList['parts'];
}

export const PARTS_LIST_PAGE_SIZE = 4096;
export const PARTS_LIST_TABLE_COUNT = 71;
export const DEFAULT_PARTS_LIST_BYTES = 1_720_320;

const ARTICLE_COUNT = 32;
const PROFILE_COUNT = 21;
const PADDING_TABLE_PREFIX = 'Synthetic_Filler_';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

const prng = mulberry32;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

type Rng = () => number;
const int = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const round = (n: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** Upper-case GUID in braces, as Logikal writes them inside parts-list files. */
export function bracedGuid(guid: string): string {
  return `{${guid.trim().replace(/^\{|\}$/g, '').toUpperCase()}}`;
}

function randomGuid(rng: Rng): string {
  const hex = (n: number): string =>
    Array.from({ length: n }, () => Math.floor(rng() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(rng() * 4)]}${hex(3)}-${hex(12)}`;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const TYPOLOGIES = [
  { short: 'Fenster 1-flg.', long: 'Fenster 1-flügelig, Dreh-Kipp, Anschlag rechts' },
  { short: 'Fenster 2-flg.', long: 'Fenster 2-flügelig, Stulp, Dreh-Kipp / Dreh' },
  { short: 'Hebeschiebetür', long: 'Hebe-Schiebe-Tür 2-teilig, Schema A, Flügel links verschiebbar' },
  { short: 'Festverglasung', long: 'Festverglasung mit horizontalem Riegel' },
  { short: 'Tür 1-flg.', long: 'Haustür 1-flügelig, nach innen öffnend, DIN links' },
] as const;

const COLORS = [
  'RAL 9016 Verkehrsweiß, matt (Traffic white)',
  'RAL 7016 Anthrazitgrau, Feinstruktur (Anthracite grey)',
  'RAL 9005 Tiefschwarz, matt (Jet black)',
  'EV1 Natur eloxiert (Anodised natural)',
  'RAL 9006 Weißaluminium, seidenglanz (White aluminium)',
] as const;

const GLASS_BUILDUPS = [
  '4/16/4 Float / Warm Edge / Float, Ug=1.1 W/m²K',
  '6/16/4 ESG / Warm Edge / Float, Ug=1.1 W/m²K',
  '33.1/14/4/14/4 VSG / Argon / Float / Argon / Float, Ug=0.6 W/m²K',
  '44.2/16/6 VSG P4A / Argon / ESG, Ug=1.0 W/m²K',
  '4/12/4/12/4 Dreifach-Isolierglas, Ug=0.7 W/m²K',
] as const;

const ARTICLE_NAMES = [
  ['Eckverbinder', 'Stk'], ['Schraube 4,2 x 19 DIN 7504-N', 'Stk'], ['Dichtung EPDM außen', 'm'],
  ['Glasfalzdichtung', 'm'], ['Entwässerungskappe', 'Stk'], ['Beschlag Dreh-Kipp Set', 'Stk'],
  ['Griff Olive, Aluminium', 'Stk'], ['Stoßverbinder', 'Stk'], ['Verglasungskeil', 'Stk'],
  ['Klotzbrücke 5 mm', 'Stk'], ['Rahmendübel 10 x 112', 'Stk'], ['Schließstück', 'Stk'],
  ['Ecklager', 'Stk'], ['Scherenlager', 'Stk'], ['Mittelverschluss', 'Stk'], ['Abdeckkappe', 'Stk'],
  ['Dichtstoff Silikon 310 ml', 'Stk'], ['Eckwinkelkleber 2K', 'Stk'], ['Mitteldichtung', 'm'],
  ['Anschlagdichtung innen', 'm'], ['Isoliersteg', 'm'], ['Schwellenverbinder', 'Stk'],
] as const;

const PROFILE_NAMES = [
  'Blendrahmen 77 mm', 'Flügelrahmen 85 mm', 'Pfosten 90 mm', 'Riegel 90 mm', 'Glasleiste 22 mm',
  'Sprosse 50 mm', 'Schwelle, thermisch getrennt', 'Koppelprofil', 'Verbreiterung 20 mm',
  'Stulpprofil', 'Laufschiene', 'Abdeckprofil', 'Rahmenverbreiterung 50 mm', 'Wetterschenkel',
] as const;

const ALT_SYSTEMS = [
  { code: 'ML 8', name: 'Reynaers MasterLine 8' },
  { code: 'CP 130-LS', name: 'Reynaers ConceptPatio 130-LS' },
  { code: 'CS 77', name: 'Reynaers ConceptSystem 77' },
] as const;

// ---------------------------------------------------------------------------------------------
// Composition (pure data; no SQLite)

type Cell = string | number | null | Buffer;
interface TableDef {
  name: string;
  columns: Array<[name: string, type: 'TEXT' | 'REAL' | 'INTEGER' | 'BLOB']>;
  rows: Cell[][];
}

interface Composition {
  content: PartsListContent;
  tables: TableDef[];
}

interface ElevationRow {
  guid: string;
  name: string;
  values: ParsedPartsList['elevation'];
  width: number;
  height: number;
}

function elevationRow(rng: Rng, guid: string, name: string, system: { code: string; name: string }, w: number, h: number, color: string): ElevationRow {
  const typology = pick(rng, TYPOLOGIES);
  const area = round((w * h) / 1e6, 3);
  return {
    guid,
    name,
    width: w,
    height: h,
    values: {
      autoDescription: `${typology.long}, ${system.name}, ${w} x ${h} mm, ${color}`,
      autoDescriptionShort: typology.short,
      widthOut: w,
      widthUnit: 'mm',
      heightOut: h,
      heightUnit: 'mm',
      weightOut: round(area * (28 + rng() * 12), 1),
      weightUnit: 'kg',
      areaOutput: area,
      areaUnit: 'm²',
      systemCode: system.code,
      systemName: system.name,
      systemLongName: `${system.name} (${system.code})`,
      colorBaseLong: color,
    },
  };
}

function compose(spec: PartsListSpec): Composition {
  if (!Number.isFinite(spec.widthMm) || !Number.isFinite(spec.heightMm) || spec.widthMm <= 0 || spec.heightMm <= 0) {
    throw new TypeError('widthMm and heightMm must be positive numbers');
  }
  const seed = spec.seed ?? fnv1a(`${spec.elevationGuid}|${spec.elevationName}`);
  const rng = prng(seed);
  // Decoy rows draw from their own stream, so every variant carries the same content.
  const decoyRng = prng(seed ^ 0x5bd1e995);
  const variant = spec.variant ?? 'normal';
  const legacy = spec.spelling === 'legacy';
  const color = spec.colorBaseLong ?? pick(rng, COLORS);
  const shortColor = color.split(',')[0] as string;
  const elevationGuid = bracedGuid(spec.elevationGuid);
  const phaseGuid = bracedGuid(spec.phaseGuid);
  const projectGuid = bracedGuid(spec.projectGuid);
  const w = spec.widthMm;
  const h = spec.heightMm;

  // ---- Elevations
  const target = elevationRow(rng, elevationGuid, spec.elevationName, { code: spec.systemCode, name: spec.systemName }, w, h, color);
  const elevations: ElevationRow[] = [];
  if (variant === 'multi-row') {
    const altSystem = ALT_SYSTEMS.find((s) => s.name !== spec.systemName) ?? ALT_SYSTEMS[0];
    const altColor = COLORS.find((c) => c !== color) ?? COLORS[0];
    const unrelated =
      ['P01', 'P02', 'P98', 'P99', 'Decoy'].find((n) => n !== spec.elevationName && !n.includes(spec.elevationName)) ?? 'Decoy';
    // An unrelated name first (catches "take the first row"), then one containing the wanted
    // name (catches "LIKE before exact").
    elevations.push(elevationRow(decoyRng, bracedGuid(randomGuid(decoyRng)), unrelated, altSystem, w + 610, h + 205, altColor));
    elevations.push(elevationRow(decoyRng, bracedGuid(randomGuid(decoyRng)), `${spec.elevationName}a`, altSystem, w + 120, Math.max(1, h - 35), altColor));
  }
  if (variant !== 'empty-elevations') elevations.push(target);

  const sp = legacy
    ? { width: 'Width_Out', height: 'Heighth_Out', heightUnit: 'Heighth_Unit', weight: 'Weight_Out', systemCode: 'Systemcode' }
    : { width: 'Width_Output', height: 'Height_Output', heightUnit: 'Height_Unit', weight: 'Weight_Output', systemCode: 'SystemCode' };
  const elevationsTable: TableDef = {
    name: 'Elevations',
    columns: [
      ['ElevationID', 'TEXT'], ['PhaseID', 'TEXT'], ['Name', 'TEXT'], ['Description', 'TEXT'], ['Amount', 'INTEGER'],
      ['Width', 'REAL'], ['Height', 'REAL'], ['AutoDescription', 'TEXT'], ['AutoDescriptionShort', 'TEXT'],
      [sp.width, 'REAL'], ['Width_Unit', 'TEXT'], [sp.height, 'REAL'], [sp.heightUnit, 'TEXT'],
      [sp.weight, 'REAL'], ['Weight_Unit', 'TEXT'], ['Area_Output', 'REAL'], ['Area_Unit', 'TEXT'],
      [sp.systemCode, 'TEXT'], ['SystemName', 'TEXT'], ['SystemLongName', 'TEXT'], ['ColorBase_Long', 'TEXT'],
    ],
    rows: elevations.map((e) => [
      e.guid, phaseGuid, e.name, `Position ${e.name}`, 1, e.width, e.height,
      e.values.autoDescription, e.values.autoDescriptionShort,
      e.values.widthOut, e.values.widthUnit, e.values.heightOut, e.values.heightUnit,
      e.values.weightOut, e.values.weightUnit, e.values.areaOutput, e.values.areaUnit,
      e.values.systemCode, e.values.systemName, e.values.systemLongName, e.values.colorBaseLong,
    ]),
  };

  // ---- Glass
  const glassNames = [pick(rng, GLASS_BUILDUPS), pick(rng, GLASS_BUILDUPS)];
  const glass = glassNames.map((name, i) => ({ glassId: String(i + 1), name }));
  const glassTable: TableDef = {
    name: 'Glass',
    columns: [['GlassID', 'TEXT'], ['ElevationID', 'TEXT'], ['Name', 'TEXT'], ['Width', 'REAL'], ['Height', 'REAL'], ['Area', 'REAL'], ['Area_Unit', 'TEXT'], ['Weight', 'REAL']],
    rows: glass.map((g, i) => {
      const gw = Math.round((w / glass.length) - 120 - i);
      const gh = Math.round(h - 120);
      return [g.glassId, elevationGuid, g.name, gw, gh, round((gw * gh) / 1e6, 3), 'm²', round((gw * gh) / 1e6 * 25, 1)];
    }),
  };

  // ---- Articles and Profiles
  const parts: ParsedPartsList['parts'] = [];
  const articleRows: Cell[][] = [];
  for (let i = 0; i < ARTICLE_COUNT; i++) {
    const [description, unit] = ARTICLE_NAMES[i % ARTICLE_NAMES.length] as readonly [string, string];
    const articleCode = `0${50 + (i % 40)}.${String(int(rng, 1000, 9999))}.${rng() < 0.3 ? 'XX' : '--'}`;
    const amount = unit === 'm' ? round(0.5 + rng() * 11.5, 2) : int(rng, 1, 24);
    const partColor = rng() < 0.6 ? shortColor : null;
    parts.push({ kind: 'article', articleCode, description, color: partColor, amount, length: null, priceMinor: null });
    articleRows.push([i + 1, elevationGuid, articleCode, description, amount, unit, partColor, int(rng, 1, 4), round(rng() * 2, 3)]);
  }
  const profileRows: Cell[][] = [];
  for (let i = 0; i < PROFILE_COUNT; i++) {
    const description = PROFILE_NAMES[i % PROFILE_NAMES.length] as string;
    const articleCode = `0${56 + (i % 20)}.${String(int(rng, 1000, 9999))}.XX`;
    const base = (i % 2 === 0 ? w : h) / 1000;
    const length = round(base + rng() * 0.2, 3);
    const amount = int(rng, 1, 4);
    const priceMinor = Math.round(length * amount * int(rng, 800, 4500));
    parts.push({ kind: 'profile', articleCode, description, color: shortColor, amount, length, priceMinor });
    profileRows.push([i + 1, elevationGuid, articleCode, description, length, 'm', amount, shortColor, priceMinor / 100, 'EUR', round(length * 1.4, 3)]);
  }

  const lines = (n: number, f: (i: number) => Cell[]): Cell[][] => Array.from({ length: n }, (_, i) => f(i));
  const named: TableDef[] = [
    {
      name: 'Projects',
      columns: [['ProjectID', 'TEXT'], ['Name', 'TEXT'], ['JobNumber', 'TEXT'], ['OfferNumber', 'TEXT'], ['PersonInCharge', 'TEXT'], ['Currency', 'TEXT']],
      rows: [[projectGuid, spec.projectName, spec.projectName, `A-${int(rng, 10000, 99999)}`, 'Fixture', 'EUR']],
    },
    {
      name: 'Phases',
      columns: [['PhaseID', 'TEXT'], ['ProjectID', 'TEXT'], ['Name', 'TEXT'], ['Description', 'TEXT']],
      rows: [[phaseGuid, projectGuid, 'Default', null]],
    },
    elevationsTable,
    {
      name: 'Articles',
      columns: [['ArticleID', 'INTEGER'], ['ElevationID', 'TEXT'], ['ArticleCode', 'TEXT'], ['Description', 'TEXT'], ['Amount', 'REAL'], ['Unit', 'TEXT'], ['Color', 'TEXT'], ['SupplierID', 'INTEGER'], ['Weight', 'REAL']],
      rows: articleRows,
    },
    {
      name: 'Profiles',
      columns: [['ProfileID', 'INTEGER'], ['ElevationID', 'TEXT'], ['ArticleCode', 'TEXT'], ['Description', 'TEXT'], ['Length', 'REAL'], ['Length_Unit', 'TEXT'], ['Amount', 'INTEGER'], ['Color', 'TEXT'], ['Price', 'REAL'], ['Currency', 'TEXT'], ['Weight', 'REAL']],
      rows: profileRows,
    },
    ...(variant === 'missing-glass' ? [] : [glassTable]),
    {
      name: 'Insertions',
      columns: [['InsertionID', 'INTEGER'], ['ElevationID', 'TEXT'], ['Name', 'TEXT'], ['Type', 'TEXT'], ['Width', 'REAL'], ['Height', 'REAL']],
      rows: lines(4, (i) => [i + 1, elevationGuid, ['Basiselement', 'Festfeld', 'Flügel', 'Flügel'][i] as string, ['base', 'fixed', 'casement', 'casement'][i] as string, Math.round(w / (i + 1)), h]),
    },
    {
      name: 'LabourTimes',
      columns: [['LabourTimeID', 'INTEGER'], ['Name', 'TEXT'], ['Time', 'REAL'], ['Time_Unit', 'TEXT'], ['Amount', 'REAL']],
      rows: lines(27, (i) => [i + 1, `Arbeitsgang ${i + 1}`, round(rng() * 30, 2), 'min', int(rng, 1, 8)]),
    },
    {
      name: 'LabourCosts',
      columns: [['LabourCostID', 'INTEGER'], ['Name', 'TEXT'], ['Hours', 'REAL'], ['Rate', 'REAL'], ['Price', 'REAL']],
      rows: lines(21, (i) => {
        const hours = round(rng() * 2, 2);
        const rate = int(rng, 45, 75);
        return [i + 1, `Lohnposition ${i + 1}`, hours, rate, round(hours * rate, 2)];
      }),
    },
    {
      name: 'CalcItemNames',
      columns: [['CalcItemNameID', 'INTEGER'], ['Name', 'TEXT']],
      rows: lines(20, (i) => [i + 1, `Kalkulationsposten ${i + 1}`]),
    },
    {
      name: 'CalcDetailItems',
      columns: [['CalcDetailItemID', 'INTEGER'], ['CalcItemNameID', 'INTEGER'], ['ElevationID', 'TEXT'], ['Value', 'REAL']],
      rows: lines(140, (i) => [i + 1, (i % 20) + 1, elevationGuid, round(rng() * 250, 2)]),
    },
    {
      name: 'MountingLines',
      columns: [['MountingLineID', 'INTEGER'], ['Side', 'TEXT'], ['Length', 'REAL'], ['Length_Unit', 'TEXT']],
      rows: lines(4, (i) => [i + 1, ['top', 'right', 'bottom', 'left'][i] as string, i % 2 === 0 ? w : h, 'mm']),
    },
    {
      name: 'UValue',
      columns: [['UValueID', 'INTEGER'], ['Name', 'TEXT'], ['U', 'REAL'], ['U_Unit', 'TEXT'], ['Area', 'REAL'], ['Area_Unit', 'TEXT']],
      rows: lines(22, (i) => [i + 1, `Teilfläche ${i + 1}`, round(0.6 + rng() * 2, 2), 'W/m²K', round(rng() * 1.5, 3), 'm²']),
    },
    {
      name: 'Colors',
      columns: [['ColorID', 'INTEGER'], ['Name', 'TEXT'], ['ColorBase_Long', 'TEXT'], ['Surface', 'TEXT']],
      rows: lines(6, (i) => {
        const c = i === 0 ? color : (COLORS[i % COLORS.length] as string);
        return [i + 1, c.split(',')[0] as string, c, i % 2 === 0 ? 'outside' : 'inside'];
      }),
    },
    {
      name: 'ElevationCE',
      columns: [['ElevationCEID', 'INTEGER'], ['ElevationID', 'TEXT'], ['Property', 'TEXT'], ['Value', 'TEXT'], ['Unit', 'TEXT']],
      rows: lines(20, (i) => [i + 1, elevationGuid, `CE-Merkmal ${i + 1}`, String(round(rng() * 10, 1)), i % 3 === 0 ? 'W/m²K' : null]),
    },
    {
      name: 'Suppliers',
      columns: [['SupplierID', 'INTEGER'], ['Name', 'TEXT'], ['Country', 'TEXT']],
      rows: lines(4, (i) => [i + 1, ['Reynaers Aluminium', 'Siegenia', 'Roto Frank', 'Glas Trösch'][i] as string, ['BE', 'DE', 'DE', 'CH'][i] as string]),
    },
    {
      name: 'Manufacturers',
      columns: [['ManufacturerID', 'INTEGER'], ['Name', 'TEXT']],
      rows: lines(3, (i) => [i + 1, ['Reynaers Aluminium', 'Siegenia', 'Roto Frank'][i] as string]),
    },
  ];

  const fillerCount = PARTS_LIST_TABLE_COUNT - named.length;
  const fillers: TableDef[] = lines(fillerCount, () => []).map((_, i) => ({
    name: `${PADDING_TABLE_PREFIX}${String(i + 1).padStart(2, '0')}`,
    columns: [['FillerID', 'INTEGER'], ['Label', 'TEXT'], ['Value', 'REAL'], ['Data', 'BLOB']],
    rows: lines(int(rng, 0, 9), (r) => [r + 1, `synthetic row ${r + 1}`, round(rng() * 1000, 3), null]),
  }));

  return {
    content: { elevation: target.values, glass: variant === 'missing-glass' ? [] : glass, parts },
    tables: [...named, ...fillers],
  };
}

/** What a correct parser extracts from `buildPartsList(spec)` (elevation row = the one named `elevationName`). */
export function partsListContent(spec: PartsListSpec): PartsListContent {
  return compose(spec).content;
}

// ---------------------------------------------------------------------------------------------
// SQLite writing

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Pseudo-random bytes (xorshift32), so padding does not look like a run of zeros. */
function randomBytes(length: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, length);
}

/** Builds one parts-list file (SQLite 3 database image) for `spec`. */
export function buildPartsList(spec: PartsListSpec): Buffer {
  const { tables } = compose(spec);
  const targetPages = Math.ceil((spec.targetBytes ?? DEFAULT_PARTS_LIST_BYTES) / PARTS_LIST_PAGE_SIZE);
  const db = new Database(':memory:');
  try {
    db.pragma(`page_size = ${PARTS_LIST_PAGE_SIZE}`);
    db.pragma('auto_vacuum = NONE');
    db.transaction(() => {
      for (const t of tables) {
        db.exec(`CREATE TABLE ${quoteIdent(t.name)} (${t.columns.map(([c, type]) => `${quoteIdent(c)} ${type}`).join(', ')})`);
        if (t.rows.length === 0) continue;
        const insert = db.prepare(`INSERT INTO ${quoteIdent(t.name)} VALUES (${t.columns.map(() => '?').join(', ')})`);
        for (const row of t.rows) insert.run(row);
      }
    })();

    // Pad the last filler table with blobs until the file reaches the target page count.
    const padTable = tables[tables.length - 1] as TableDef;
    const pad = db.prepare(`INSERT INTO ${quoteIdent(padTable.name)} (FillerID, Label, Value, Data) VALUES (?, ?, ?, ?)`);
    const pageCount = db.prepare('PRAGMA page_count').pluck();
    const usable = PARTS_LIST_PAGE_SIZE - 4; // payload bytes per overflow page
    const maxChunkPages = 16;
    const pool = randomBytes(2 * maxChunkPages * usable, spec.seed ?? fnv1a(spec.elevationGuid));
    let pages = pageCount.get() as number;
    let id = padTable.rows.length;
    db.transaction(() => {
      while (pages < targetPages) {
        const remaining = targetPages - pages;
        // Big rows (mostly overflow pages) while far away, then small in-page rows to land on target.
        const len = remaining > 3 ? Math.min(maxChunkPages, remaining - 2) * usable : 1800;
        id += 1;
        const offset = (id * 4099) % (maxChunkPages * usable);
        pad.run(id, `synthetic padding ${id}`, len, pool.subarray(offset, offset + len));
        pages = pageCount.get() as number;
      }
    })();

    const image = db.serialize();
    if (spec.journalMode === 'wal') {
      image[18] = 2;
      image[19] = 2;
    }
    return image;
  } finally {
    db.close();
  }
}
