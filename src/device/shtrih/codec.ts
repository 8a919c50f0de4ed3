/**
 * Byte-level encoding of the Shtrih-M protocol (standard lower level), shared by the driver
 * and the emulator: frames (STX LEN CMD DATA LRC), 1- and 2-byte command codes, money,
 * FF46h quantities, FN DATE_TIME, CP1251 text, CP866 TLV strings and TLV building.
 * Reference: docs in /work/shared/reference/kkt-shtrih-m.md §1.2, §1.3, §1.7, §4.1.
 */
import iconv from 'iconv-lite';

export const STX = 0x02;
export const ENQ = 0x05;
export const ACK = 0x06;
export const NAK = 0x15;

/** Largest LEN (CMD + DATA bytes). */
export const MAX_FRAME_LEN = 255;
/** Largest value a 5-byte money field may carry (protocol range 0…9 999 999 999). */
export const MAX_MONEY = 9_999_999_999;
/** "Not given, let the device compute" in FF46h sum / tax fields. */
export const MONEY_AUTO = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]);

/** A value the protocol cannot carry (text not encodable, number out of range, frame too long). */
export class EncodingError extends Error {
  override readonly name = 'EncodingError';
  constructor(
    /** The field at fault, e.g. `name`, `items.2.name`, `frame`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** XOR of every byte (callers pass LEN..DATA). */
export function lrc(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

/** Command code → wire bytes: 0x10 → [10], 0xff46 → [FF 46]. */
export function commandBytes(code: number): Buffer {
  if (code >= 0 && code <= 0xfe) return Buffer.from([code]);
  if (code >= 0xff00 && code <= 0xffff) return Buffer.from([0xff, code & 0xff]);
  throw new EncodingError('command', `bad command code ${code}`);
}

/** Reads a command code from the start of a frame body; returns the code and its length. */
export function readCommandCode(body: Uint8Array): { code: number; size: number } {
  if (body.length === 0) throw new EncodingError('frame', 'empty body');
  if (body[0] === 0xff) {
    if (body.length < 2) throw new EncodingError('frame', 'truncated 2-byte command code');
    return { code: 0xff00 | body[1]!, size: 2 };
  }
  return { code: body[0]!, size: 1 };
}

export function hexCode(code: number): string {
  return `${code.toString(16).toUpperCase().padStart(2, '0')}h`;
}

/** CMD+DATA → STX LEN CMD DATA LRC. Throws EncodingError when LEN would exceed 255. */
export function encodeBody(body: Uint8Array): Buffer {
  if (body.length < 1 || body.length > MAX_FRAME_LEN) {
    throw new EncodingError('frame', `LEN ${body.length} outside 1…${MAX_FRAME_LEN}`);
  }
  const out = Buffer.alloc(body.length + 3);
  out[0] = STX;
  out[1] = body.length;
  out.set(body, 2);
  out[out.length - 1] = lrc(out.subarray(1, out.length - 1));
  return out;
}

export function encodeFrame(code: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  return encodeBody(Buffer.concat([commandBytes(code), data]));
}

/** Parses one complete frame (STX … LRC); throws on bad STX/LEN/LRC. */
export function decodeFrame(frame: Uint8Array): { code: number; data: Buffer } {
  if (frame[0] !== STX) throw new EncodingError('frame', 'no STX');
  const len = frame[1] ?? 0;
  if (frame.length !== len + 3) throw new EncodingError('frame', `length ${frame.length} does not match LEN ${len}`);
  const body = Buffer.from(frame.subarray(2, 2 + len));
  if (lrc(frame.subarray(1, 2 + len)) !== frame[2 + len]) throw new EncodingError('frame', 'bad LRC');
  const { code, size } = readCommandCode(body);
  return { code, data: body.subarray(size) };
}

// ---------------------------------------------------------------- numbers

function checkInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new EncodingError(field, `${value} is not an integer in ${min}…${max}`);
  }
}

/** Unsigned little-endian integer of `size` bytes (size ≤ 6). */
export function encodeUInt(value: number, size: number, field = 'value'): Buffer {
  checkInt(value, 0, 2 ** (8 * size) - 1, field);
  const out = Buffer.alloc(size);
  out.writeUIntLE(value, 0, size);
  return out;
}

export function decodeUInt(buf: Uint8Array, offset: number, size: number): number {
  if (offset + size > buf.length) throw new EncodingError('answer', `truncated: need ${offset + size} bytes, have ${buf.length}`);
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readUIntLE(offset, size);
}

export function encodePassword(password: number): Buffer {
  return encodeUInt(password, 4, 'password');
}

/** Money in kopecks, 5 bytes LE. */
export function encodeMoney(kopecks: number, field = 'amount'): Buffer {
  checkInt(kopecks, 0, MAX_MONEY, field);
  return encodeUInt(kopecks, 5, field);
}

export function decodeMoney(buf: Uint8Array, offset: number): number {
  return decodeUInt(buf, offset, 5);
}

export function isMoneyAuto(buf: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 5; i++) if (buf[offset + i] !== 0xff) return false;
  return true;
}

/** Largest FF46h quantity in millionths that we send: 9 999 999.999999 units (fits in 6 bytes). */
export const MAX_QUANTITY_MICRO = 9_999_999_999_999;

/** FF46h quantity: millionths of a unit, 6 bytes LE. */
export function encodeQuantity6(micro: number, field = 'quantity'): Buffer {
  checkInt(micro, 0, MAX_QUANTITY_MICRO, field);
  return encodeUInt(micro, 6, field);
}

export function decodeQuantity6(buf: Uint8Array, offset: number): number {
  return decodeUInt(buf, offset, 6);
}

/** FN DATE_TIME: YY MM DD HH MM, taken from the UTC fields of `d` (device local time as UTC). */
export function encodeDateTime(d: Date): Buffer {
  return Buffer.from([d.getUTCFullYear() % 100, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()]);
}

/** DATE_TIME → ISO-8601 (device local time taken as UTC); null when the bytes are not a date. */
export function decodeDateTime(buf: Uint8Array, offset: number): string | null {
  if (offset + 5 > buf.length) return null;
  const [yy, mm, dd, hh, mi] = [buf[offset]!, buf[offset + 1]!, buf[offset + 2]!, buf[offset + 3]!, buf[offset + 4]!];
  if (mm < 1 || mm > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59) return null;
  return new Date(Date.UTC(2000 + yy, mm - 1, dd, hh, mi)).toISOString();
}

// ---------------------------------------------------------------- text

function encodeStrict(text: string, encoding: 'cp1251' | 'cp866', field: string): Buffer {
  const bytes = iconv.encode(text, encoding);
  // iconv-lite replaces what the code page cannot hold with '?': a round trip finds it.
  if (iconv.decode(bytes, encoding) !== text) {
    const bad = [...text].find((ch) => iconv.decode(iconv.encode(ch, encoding), encoding) !== ch);
    throw new EncodingError(field, `character ${JSON.stringify(bad ?? '?')} cannot be encoded in ${encoding.toUpperCase()}`);
  }
  return bytes;
}

/** Printable text in Windows-1251; throws EncodingError for characters it cannot hold. */
export function encodeCp1251(text: string, field = 'text', maxBytes?: number): Buffer {
  const bytes = encodeStrict(text, 'cp1251', field);
  if (maxBytes !== undefined && bytes.length > maxBytes) {
    throw new EncodingError(field, `${bytes.length} bytes in CP1251, at most ${maxBytes} allowed`);
  }
  return bytes;
}

export function decodeCp1251(buf: Uint8Array): string {
  return iconv.decode(Buffer.from(buf), 'cp1251');
}

/** TLV string for the FN (CP866); throws EncodingError for characters it cannot hold. */
export function encodeCp866(text: string, field = 'text', maxBytes?: number): Buffer {
  const bytes = encodeStrict(text, 'cp866', field);
  if (maxBytes !== undefined && bytes.length > maxBytes) {
    throw new EncodingError(field, `${bytes.length} bytes in CP866, at most ${maxBytes} allowed`);
  }
  return bytes;
}

export function decodeCp866(buf: Uint8Array): string {
  return iconv.decode(Buffer.from(buf), 'cp866');
}

/** Whether the text survives a CP1251 round trip. */
export function isCp1251(text: string): boolean {
  return iconv.decode(iconv.encode(text, 'cp1251'), 'cp1251') === text;
}

// ---------------------------------------------------------------- TLV

/** TLV: tag LE16, length LE16, value. */
export function tlv(tag: number, value: Uint8Array): Buffer {
  checkInt(tag, 0, 0xffff, 'tag');
  if (value.length > 0xffff) throw new EncodingError(`tag ${tag}`, 'value too long');
  const head = Buffer.alloc(4);
  head.writeUInt16LE(tag, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
}

export function tlvString(tag: number, text: string, maxBytes?: number): Buffer {
  return tlv(tag, encodeCp866(text, `tag ${tag}`, maxBytes));
}

export function tlvByte(tag: number, value: number): Buffer {
  return tlv(tag, encodeUInt(value, 1, `tag ${tag}`));
}

export function tlvUInt32(tag: number, value: number): Buffer {
  return tlv(tag, encodeUInt(value, 4, `tag ${tag}`));
}

/** VLN: unsigned LE integer of minimal length (at least one byte). */
export function tlvVln(tag: number, value: number): Buffer {
  checkInt(value, 0, Number.MAX_SAFE_INTEGER, `tag ${tag}`);
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.push(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return tlv(tag, Buffer.from(bytes));
}

export interface ParsedTlv {
  tag: number;
  value: Buffer;
}

/** Splits a concatenation of TLVs; throws on truncation. */
export function parseTlvs(buf: Uint8Array): ParsedTlv[] {
  const b = Buffer.from(buf);
  const out: ParsedTlv[] = [];
  let off = 0;
  while (off < b.length) {
    if (off + 4 > b.length) throw new EncodingError('tlv', 'truncated header');
    const tag = b.readUInt16LE(off);
    const len = b.readUInt16LE(off + 2);
    if (off + 4 + len > b.length) throw new EncodingError('tlv', `tag ${tag}: truncated value`);
    out.push({ tag, value: b.subarray(off + 4, off + 4 + len) });
    off += 4 + len;
  }
  return out;
}

export function toHex(buf: Uint8Array): string {
  return Buffer.from(buf).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 ');
}
