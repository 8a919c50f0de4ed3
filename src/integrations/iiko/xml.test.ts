/**
 * parseDepartmentsXml: hostile input (entity bomb, external entity, any DOCTYPE, huge, malformed),
 * shapes (single item, empty elements, unknown elements, nested tax id), text decoding (Cyrillic,
 * &amp;, character references), and speed on 10,000 departments.
 */
import { describe, expect, it } from 'vitest';
import { ZERO_GUID } from './contract';
import { entityBombXml, externalEntityXml, generateDepartments, hugeXmlChunks, malformedXml } from './simulator';
import { IikoXmlError, MAX_DEPARTMENTS_XML_BYTES, departmentsToXml, parseDepartmentsXml, xmlEscape, type RawDepartment } from './xml';

const HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const doc = (items: string) => `${HEAD}<corporateItemDtoes>${items}</corporateItemDtoes>`;

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IikoXmlError);
    expect(e).toBeInstanceOf(Error);
    return (e as IikoXmlError).problem;
  }
  throw new Error('expected an IikoXmlError');
}

describe('parseDepartmentsXml: shapes and values', () => {
  it('parses items in document order with every field, ignoring unknown elements', () => {
    const xml = doc(`
      <corporateItemDto>
        <id>{A1B2C3D4-0000-4000-8000-00000000000A}</id>
        <parentId></parentId>
        <code/>
        <name>ГК «Рога &amp; Копыта»</name>
        <type>CORPORATION</type>
        <revision>42</revision>
        <newerServerField><deep>x</deep></newerServerField>
      </corporateItemDto>
      <corporateItemDto>
        <id> b0000000-0000-4000-8000-00000000000b </id>
        <parentId>A1B2C3D4-0000-4000-8000-00000000000A</parentId>
        <code>J1</code>
        <name>ООО «Вкус»</name>
        <type>JURPERSON</type>
        <jurPersonAdditionalPropertiesDto><taxpayerId>7701234567</taxpayerId><kpp>770101001</kpp></jurPersonAdditionalPropertiesDto>
      </corporateItemDto>
      <corporateItemDto>
        <id>c0000000-0000-4000-8000-00000000000c</id>
        <parentId>b0000000-0000-4000-8000-00000000000b</parentId>
        <code>101</code>
        <name>Кафе &lt;Арбат&gt; &#8470;1 &#x2014; &quot;центр&quot; &apos;</name>
        <type>DEPARTMENT</type>
        <taxpayerIdNumber>7701234567</taxpayerIdNumber>
        <jurPersonAdditionalPropertiesDto><taxpayerId>9999999999</taxpayerId></jurPersonAdditionalPropertiesDto>
      </corporateItemDto>
      <corporateItemDto>
        <id>d0000000-0000-4000-8000-00000000000d</id>
        <code>  </code>
        <name/>
        <type>STORE</type>
        <taxpayerIdNumber/>
      </corporateItemDto>`);
    expect(parseDepartmentsXml(xml)).toEqual<RawDepartment[]>([
      { id: 'a1b2c3d4-0000-4000-8000-00000000000a', parentId: '', code: null, name: 'ГК «Рога & Копыта»', type: 'CORPORATION', taxpayerId: null },
      { id: 'b0000000-0000-4000-8000-00000000000b', parentId: 'a1b2c3d4-0000-4000-8000-00000000000a', code: 'J1', name: 'ООО «Вкус»', type: 'JURPERSON', taxpayerId: '7701234567' },
      // the top-level taxpayerIdNumber wins over the nested one
      { id: 'c0000000-0000-4000-8000-00000000000c', parentId: 'b0000000-0000-4000-8000-00000000000b', code: '101', name: 'Кафе <Арбат> №1 — "центр" \'', type: 'DEPARTMENT', taxpayerId: '7701234567' },
      { id: 'd0000000-0000-4000-8000-00000000000d', parentId: null, code: null, name: '', type: 'STORE', taxpayerId: null },
    ]);
  });

  it('returns root parentIds as given: "", "0", the zero GUID; null only when absent', () => {
    const item = (id: string, parent: string | null) =>
      `<corporateItemDto><id>${id}</id>${parent === null ? '' : `<parentId>${parent}</parentId>`}<name>n</name><type>CORPORATION</type></corporateItemDto>`;
    const out = parseDepartmentsXml(doc(item('a', '') + item('b', '0') + item('c', ZERO_GUID.toUpperCase()) + item('d', null) + item('e', ' ')));
    expect(out.map((d) => d.parentId)).toEqual(['', '0', ZERO_GUID, null, '']);
  });

  it('normalises a single item to a list, and an empty root to []', () => {
    const one = parseDepartmentsXml(doc('<corporateItemDto><id>x1</id><name>Один</name><type>DEPARTMENT</type></corporateItemDto>'));
    expect(one).toEqual([{ id: 'x1', parentId: null, code: null, name: 'Один', type: 'DEPARTMENT', taxpayerId: null }]);
    expect(parseDepartmentsXml(`${HEAD}<corporateItemDtoes/>`)).toEqual([]);
    expect(parseDepartmentsXml(`${HEAD}<corporateItemDtoes>\n</corporateItemDtoes>`)).toEqual([]);
    expect(parseDepartmentsXml(`${HEAD}<corporateItemDtoes><somethingElse>1</somethingElse></corporateItemDtoes>`)).toEqual([]);
  });

  it('reads Buffers as UTF-8 and skips a BOM; comments and CDATA are fine', () => {
    const xml = doc('<!-- comment --><corporateItemDto><id>x</id><name><![CDATA[Бар & гриль]]></name><type>DEPARTMENT</type></corporateItemDto>');
    const buf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml, 'utf8')]);
    expect(parseDepartmentsXml(buf)[0]!.name).toBe('Бар & гриль');
  });

  it('refuses a wrong root, items without id or type, and non-text fields ("shape")', () => {
    expect(problem(() => parseDepartmentsXml(`${HEAD}<groupDtoes><groupDto/></groupDtoes>`))).toBe('shape');
    expect(problem(() => parseDepartmentsXml(doc('<corporateItemDto><name>n</name><type>STORE</type></corporateItemDto>')))).toBe('shape');
    expect(problem(() => parseDepartmentsXml(doc('<corporateItemDto><id>x</id><name>n</name></corporateItemDto>')))).toBe('shape');
    expect(problem(() => parseDepartmentsXml(doc('<corporateItemDto>just text</corporateItemDto>')))).toBe('shape');
    expect(problem(() => parseDepartmentsXml(doc('<corporateItemDto><id>x</id><name><b>n</b></name><type>STORE</type></corporateItemDto>')))).toBe('shape');
    expect(problem(() => parseDepartmentsXml(doc('<corporateItemDto><id>x</id><id>y</id><type>STORE</type></corporateItemDto>')))).toBe('shape');
    expect(problem(() => parseDepartmentsXml(`${HEAD}<corporateItemDtoes>text</corporateItemDtoes>`))).toBe('shape');
  });

  it('round-trips generated trees through departmentsToXml in every tax-id placement', () => {
    const depts = generateDepartments({ count: 300, seed: 7, typesMix: true, depth: 5 });
    for (const jurTaxpayer of ['nested', 'top', 'both'] as const) {
      for (const pretty of [true, false]) expect(parseDepartmentsXml(departmentsToXml(depts, { jurTaxpayer, pretty }))).toEqual(depts);
    }
    expect(xmlEscape(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
  });
});

describe('parseDepartmentsXml: hostile and broken input', () => {
  it('refuses an entity bomb without expanding it ("entities")', () => {
    const t0 = performance.now();
    expect(problem(() => parseDepartmentsXml(entityBombXml()))).toBe('entities');
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('refuses external entities ("entities")', () => {
    expect(problem(() => parseDepartmentsXml(externalEntityXml()))).toBe('entities');
  });

  it('refuses any DOCTYPE, even without entities, in any case', () => {
    expect(problem(() => parseDepartmentsXml(`${HEAD}<!DOCTYPE corporateItemDtoes><corporateItemDtoes/>`))).toBe('entities');
    expect(problem(() => parseDepartmentsXml(`${HEAD}<!doctype corporateItemDtoes SYSTEM "http://x/y.dtd"><corporateItemDtoes/>`))).toBe('entities');
  });

  it('refuses a huge document before parsing it ("too_large")', () => {
    const big = Buffer.concat([...hugeXmlChunks(MAX_DEPARTMENTS_XML_BYTES + 1024)]);
    expect(big.length).toBeGreaterThan(MAX_DEPARTMENTS_XML_BYTES);
    const t0 = performance.now();
    expect(problem(() => parseDepartmentsXml(big))).toBe('too_large');
    expect(performance.now() - t0).toBeLessThan(50); // a length check, not a parse
    const small = doc('<corporateItemDto><id>x</id><name>Щи</name><type>STORE</type></corporateItemDto>');
    expect(problem(() => parseDepartmentsXml(small, { maxBytes: 100 }))).toBe('too_large');
    // the limit is in bytes (Cyrillic takes two), for strings too
    const len = Buffer.byteLength(small);
    expect(parseDepartmentsXml(small, { maxBytes: len })).toHaveLength(1);
    expect(problem(() => parseDepartmentsXml(small, { maxBytes: len - 1 }))).toBe('too_large');
  });

  it('refuses malformed documents ("malformed")', () => {
    const real = departmentsToXml(generateDepartments({ count: 5 }));
    const cases = [
      malformedXml(real),
      doc('<corporateItemDto><id>x</id><name>AT&T</name><type>STORE</type></corporateItemDto>'),
      doc('<corporateItemDto><id>x</id><name>a&nbsp;b</name><type>STORE</type></corporateItemDto>'),
      doc('<corporateItemDto><id>x</id><name>&#0;</name><type>STORE</type></corporateItemDto>'),
      doc('<corporateItemDto><id>x</id><name>&#xD800;</name><type>STORE</type></corporateItemDto>'),
      `${HEAD}<corporateItemDtoes/><corporateItemDtoes/>`,
      `${HEAD}<corporateItemDtoes>`,
      'Internal server error',
      '<html><body>502 Bad Gateway</body>',
      '',
      real.slice(0, Math.floor(real.length / 2)),
    ];
    for (const c of cases) expect(problem(() => parseDepartmentsXml(c)), c.slice(0, 80)).toBe('malformed');
  });
});

describe('parseDepartmentsXml: speed', () => {
  it('parses 10,000 departments fast', () => {
    const depts = generateDepartments({ count: 10_000, seed: 3, typesMix: true, shuffle: true });
    const xml = Buffer.from(departmentsToXml(depts), 'utf8');
    parseDepartmentsXml(xml); // warm-up (JIT)
    const times: number[] = [];
    let out: RawDepartment[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      out = parseDepartmentsXml(xml);
      times.push(performance.now() - t0);
    }
    expect(out).toEqual(depts);
    const best = Math.min(...times);
    console.log(`parseDepartmentsXml: 10,000 departments, ${(xml.length / 1e6).toFixed(2)} MB, best of 3: ${best.toFixed(0)} ms`);
    expect(best).toBeLessThan(1500);
  });
});
