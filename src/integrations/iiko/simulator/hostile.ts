/**
 * Hostile and broken departments documents the simulator can serve instead of the real list
 * (IikoFaultPlan.malformedXml / hostileXml). A safe client must refuse every one of them without
 * expanding an entity, touching a file or buffering more than its cap.
 */
import { DEPARTMENTS_ITEM, DEPARTMENTS_ROOT } from '../contract';

/** Billion laughs: 10 levels of 10× expansion (10^9 "lol"s ≈ 3 GB if a parser expanded it). */
export function entityBombXml(): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<!DOCTYPE ${DEPARTMENTS_ROOT} [`, '  <!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) lines.push(`  <!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  lines.push(']>');
  lines.push(`<${DEPARTMENTS_ROOT}><${DEPARTMENTS_ITEM}><id>6f1d2a3b-0000-4000-8000-000000000001</id><name>&lol9;</name><type>DEPARTMENT</type></${DEPARTMENTS_ITEM}></${DEPARTMENTS_ROOT}>`);
  return lines.join('\n') + '\n';
}

/** XXE: an external entity pointing at a local file (and a parameter entity to a remote DTD). */
export function externalEntityXml(): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!DOCTYPE ${DEPARTMENTS_ROOT} [`,
    '  <!ENTITY xxe SYSTEM "file:///etc/passwd">',
    '  <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">',
    ']>',
    `<${DEPARTMENTS_ROOT}><${DEPARTMENTS_ITEM}><id>6f1d2a3b-0000-4000-8000-000000000002</id><name>&xxe;</name><type>DEPARTMENT</type></${DEPARTMENTS_ITEM}></${DEPARTMENTS_ROOT}>`,
    '',
  ].join('\n');
}

/** The real document with the last closing </corporateItemDto> removed (tags no longer match). */
export function malformedXml(real: string): string {
  const close = `</${DEPARTMENTS_ITEM}>`;
  const i = real.lastIndexOf(close);
  if (i < 0) return `${real.replace(`<${DEPARTMENTS_ROOT}/>`, `<${DEPARTMENTS_ROOT}>`)}<${DEPARTMENTS_ITEM}><id>x</id>\n`;
  return real.slice(0, i) + real.slice(i + close.length);
}

/** Chunks of a well-formed but huge document, `bytes` long in total (approximately, ±1 item). */
export function* hugeXmlChunks(bytes: number): Generator<Buffer> {
  const head = Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<${DEPARTMENTS_ROOT}>\n`);
  const tail = Buffer.from(`</${DEPARTMENTS_ROOT}>\n`);
  const item = `<${DEPARTMENTS_ITEM}><id>6f1d2a3b-0000-4000-8000-000000000003</id><parentId/><code>999</code><name>Ресторан «Бесконечность»</name><type>DEPARTMENT</type></${DEPARTMENTS_ITEM}>\n`;
  const chunk = Buffer.from(item.repeat(Math.max(1, Math.floor(65_536 / Buffer.byteLength(item)))));
  yield head;
  let sent = head.length + tail.length;
  while (sent < bytes) {
    yield chunk;
    sent += chunk.length;
  }
  yield tail;
}
