/**
 * Safe parsing of GET /resto/api/corporation/departments (iiko-wix-allegro.md §1.3) with
 * fast-xml-parser, plus the inverse (departmentsToXml) for the simulator and tests.
 *
 * Safety, in order:
 * 1. size: the byte length is checked before anything else is done ('too_large');
 * 2. entities: any `<!DOCTYPE` or `<!ENTITY` anywhere in the text rejects the document
 *    ('entities') — iikoServer never sends a DTD, and without one there is nothing to expand,
 *    so entity bombs and external entities never reach a parser;
 * 3. well-formedness: fast-xml-parser's validator ('malformed'); several root elements too;
 * 4. parsing with entity processing OFF; afterwards only the five predefined XML entities and
 *    numeric character references are decoded, here; any other reference is 'malformed'.
 *
 * Shape: the root must be <corporateItemDtoes>; its <corporateItemDto> children (one or many)
 * must each have an <id> and a <type>; anything else inside an item is ignored (newer servers add
 * elements). A single bad item rejects the whole document ('shape'): a department sync must not
 * act on a partial list.
 *
 * Values: `id`/`parentId` trimmed, braces stripped, lower-cased; a root's `parentId` is returned
 * as given ('' for an empty element, '0', the zero GUID; null only when the element is absent) —
 * the hierarchy code decides what a root is. `code`/`taxpayerId`: empty element or absent → null.
 * `taxpayerId` is the top-level <taxpayerIdNumber>, else <jurPersonAdditionalPropertiesDto>/<taxpayerId>.
 * The text is read as UTF-8 (iikoServer's encoding); a leading BOM is skipped.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DEPARTMENTS_ITEM, DEPARTMENTS_ROOT } from './contract';
import { IikoXmlError } from './errors';

export { IikoXmlError, type IikoXmlProblem } from './errors';

export interface RawDepartment {
  id: string;
  parentId: string | null;
  code: string | null;
  name: string;
  type: string;
  taxpayerId: string | null;
}

/** Default cap of a departments document (a 10,000-department chain is about 3 MB). */
export const MAX_DEPARTMENTS_XML_BYTES = 50 * 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  isArray: (_name: string, jpath: string) => jpath === `${DEPARTMENTS_ROOT}.${DEPARTMENTS_ITEM}`,
});

const DTD_RE = /<!DOCTYPE|<!ENTITY/i;
const REF_RE = /&(?:#x([0-9a-fA-F]{1,8})|#([0-9]{1,10})|([A-Za-z_:][\w.:-]*));/g;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function validCodePoint(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Decodes the five predefined entities and numeric character references; anything else is malformed. */
function decodeRefs(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(REF_RE, (_m, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) {
      const v = PREDEFINED[name];
      if (v === undefined) throw new IikoXmlError('malformed', `departments XML: reference to an undeclared entity &${name.slice(0, 40)};`);
      return v;
    }
    const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    if (!validCodePoint(cp)) throw new IikoXmlError('malformed', `departments XML: character reference to an invalid character (${cp})`);
    return String.fromCodePoint(cp);
  });
}

type Node = unknown;

/** The text of a leaf: undefined when absent; throws 'shape' when it is not a leaf. */
function text(item: Record<string, Node>, key: string, where: string): string | undefined {
  const v = item[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return decodeRefs(v).trim();
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    // CDATA sections (iikoServer does not use them, but they are legal XML).
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.every((k) => k === '#cdata' || k === '#text')) {
      const t = typeof o['#text'] === 'string' ? decodeRefs(o['#text']) : '';
      const c = Array.isArray(o['#cdata']) ? o['#cdata'].join('') : typeof o['#cdata'] === 'string' ? o['#cdata'] : '';
      return (t + c).trim();
    }
  }
  throw new IikoXmlError('shape', `departments XML: <${key}> of ${where} is not a text element`);
}

function normalizeId(id: string): string {
  return id.replace(/^\{|\}$/g, '').toLowerCase();
}

const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

/**
 * Parses a departments document into items in document order. Throws IikoXmlError
 * ('too_large' | 'entities' | 'malformed' | 'shape').
 */
export function parseDepartmentsXml(xml: string | Buffer, opts: { maxBytes?: number } = {}): RawDepartment[] {
  const maxBytes = opts.maxBytes ?? MAX_DEPARTMENTS_XML_BYTES;
  // 1. size, before decoding or parsing (a string's UTF-8 length is at least its length).
  const bytes = typeof xml === 'string' ? (xml.length > maxBytes ? xml.length : Buffer.byteLength(xml, 'utf8')) : xml.length;
  if (bytes > maxBytes) throw new IikoXmlError('too_large', `departments XML is larger than the ${maxBytes}-byte limit (at least ${bytes} bytes)`);
  let s = typeof xml === 'string' ? xml : xml.toString('utf8');
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);

  // 2. no DTD, no entity declarations — not even harmless ones.
  if (DTD_RE.test(s)) throw new IikoXmlError('entities', 'departments XML declares a DOCTYPE or entities; refused (no DTD processing)');

  // 3. well-formed.
  const valid = XMLValidator.validate(s, { allowBooleanAttributes: true });
  if (valid !== true) {
    const e = valid.err;
    throw new IikoXmlError('malformed', `departments XML is malformed: ${e.msg} (line ${e.line}, col ${e.col})`);
  }

  // 4. parse, entities off.
  let doc: Record<string, Node>;
  try {
    doc = parser.parse(s) as Record<string, Node>;
  } catch (e) {
    throw new IikoXmlError('malformed', `departments XML is malformed: ${(e as Error).message}`, { cause: e });
  }
  const roots = Object.keys(doc);
  if (roots.length !== 1) throw new IikoXmlError('malformed', `departments XML must have exactly one root element (found ${roots.length})`);
  if (roots[0] !== DEPARTMENTS_ROOT) throw new IikoXmlError('shape', `departments XML: root element is <${roots[0]!.slice(0, 60)}>, expected <${DEPARTMENTS_ROOT}>`);
  const root = doc[DEPARTMENTS_ROOT];
  if (Array.isArray(root)) throw new IikoXmlError('malformed', `departments XML must have exactly one root element (found ${root.length})`);
  if (root === '' || root === undefined) return []; // <corporateItemDtoes/> or empty
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new IikoXmlError('shape', `departments XML: <${DEPARTMENTS_ROOT}> holds text, not items`);
  }
  const items = (root as Record<string, Node>)[DEPARTMENTS_ITEM];
  if (items === undefined) return []; // only unknown elements
  if (!Array.isArray(items)) throw new IikoXmlError('shape', `departments XML: unexpected <${DEPARTMENTS_ITEM}> structure`);

  const out: RawDepartment[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Node;
    const where = `item ${i + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new IikoXmlError('shape', `departments XML: ${where} has no child elements`);
    }
    const it = item as Record<string, Node>;
    const id = text(it, 'id', where);
    if (!id) throw new IikoXmlError('shape', `departments XML: ${where} has no <id>`);
    const type = text(it, 'type', where);
    if (!type) throw new IikoXmlError('shape', `departments XML: ${where} (${id.slice(0, 40)}) has no <type>`);
    const parentId = text(it, 'parentId', where);
    let taxpayerId = orNull(text(it, 'taxpayerIdNumber', where));
    if (taxpayerId === null && it.jurPersonAdditionalPropertiesDto !== undefined) {
      const jur = it.jurPersonAdditionalPropertiesDto;
      if (typeof jur === 'object' && jur !== null && !Array.isArray(jur)) {
        taxpayerId = orNull(text(jur as Record<string, Node>, 'taxpayerId', `${where}/jurPersonAdditionalPropertiesDto`));
      }
    }
    out[i] = {
      id: normalizeId(id),
      parentId: parentId === undefined ? null : normalizeId(parentId),
      code: orNull(text(it, 'code', where)),
      name: text(it, 'name', where) ?? '',
      type,
      taxpayerId,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing (simulator, tests)

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for an XML element (and attribute) body. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]!);
}

export interface DepartmentsXmlOptions {
  /**
   * Where a JURPERSON's tax id goes: 'nested' (<jurPersonAdditionalPropertiesDto><taxpayerId>,
   * as one integration reads it), 'top' (<taxpayerIdNumber>) or 'both'. Other types: always top.
   * Default 'nested'.
   */
  jurTaxpayer?: 'nested' | 'top' | 'both';
  /** Pretty-print with newlines and indentation (default true, like the real server). */
  pretty?: boolean;
}

/** One <corporateItemDto> element (no trailing newline). */
export function departmentItemXml(d: RawDepartment, opts: DepartmentsXmlOptions = {}): string {
  const nl = opts.pretty === false ? '' : '\n';
  const ind = opts.pretty === false ? '' : '    ';
  const el = (name: string, v: string | null) => (v === null || v === '' ? `${ind}<${name}/>${nl}` : `${ind}<${name}>${xmlEscape(v)}</${name}>${nl}`);
  const jurMode = opts.jurTaxpayer ?? 'nested';
  const isJur = d.type === 'JURPERSON';
  let out = `${opts.pretty === false ? '' : '  '}<${DEPARTMENTS_ITEM}>${nl}`;
  out += el('id', d.id);
  if (d.parentId !== null) out += el('parentId', d.parentId);
  out += el('code', d.code);
  out += el('name', d.name);
  out += el('type', d.type);
  if (d.taxpayerId !== null && (!isJur || jurMode !== 'nested')) out += el('taxpayerIdNumber', d.taxpayerId);
  if (isJur && d.taxpayerId !== null && jurMode !== 'top') {
    out += `${ind}<jurPersonAdditionalPropertiesDto>${nl}${ind}${ind}<taxpayerId>${xmlEscape(d.taxpayerId)}</taxpayerId>${nl}${ind}${ind}<taxRegistrationReasonCode/>${nl}${ind}</jurPersonAdditionalPropertiesDto>${nl}`;
  }
  out += `${opts.pretty === false ? '' : '  '}</${DEPARTMENTS_ITEM}>`;
  return out;
}

export const DEPARTMENTS_XML_HEAD = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<${DEPARTMENTS_ROOT}>\n`;
export const DEPARTMENTS_XML_TAIL = `</${DEPARTMENTS_ROOT}>\n`;

/** A whole departments document, items in the given order. */
export function departmentsToXml(departments: readonly RawDepartment[], opts: DepartmentsXmlOptions = {}): string {
  if (departments.length === 0) return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<${DEPARTMENTS_ROOT}/>\n`;
  const parts = new Array<string>(departments.length);
  for (let i = 0; i < departments.length; i++) parts[i] = departmentItemXml(departments[i]!, opts);
  return DEPARTMENTS_XML_HEAD + parts.join('\n') + '\n' + DEPARTMENTS_XML_TAIL;
}
