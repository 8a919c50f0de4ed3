/**
 * A tiny PNG encoder for the simulator's thumbnails: draws an elevation as a frame with
 * vertical mullions and glazed fields, fitted into the requested box with the aspect ratio kept
 * (like the real server: 149×300, 300×278, …). Real thumbnails are 1.7–5.8 KB; these valid
 * 8-bit RGB PNGs come out at about 1.5–2.5 KB for 300×300.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Fits an element of widthMm × heightMm into a box of boxW × boxH pixels, aspect ratio kept. */
export function fitInto(widthMm: number, heightMm: number, boxW: number, boxH: number): { w: number; h: number } {
  const ew = widthMm > 0 ? widthMm : 1;
  const eh = heightMm > 0 ? heightMm : 1;
  const scale = Math.min(boxW / ew, boxH / eh);
  return { w: Math.max(1, Math.round(ew * scale)), h: Math.max(1, Math.round(eh * scale)) };
}

export interface ElevationPicture {
  widthMm: number;
  heightMm: number;
  /** Number of vertical fields (≥ 1). */
  fields?: number;
  /** Draw dimension ticks along the bottom and right edges. */
  withDimensions?: boolean;
  exterior?: boolean;
}

/** Renders an elevation picture fitted into boxW × boxH as PNG bytes. */
export function renderElevationPng(pic: ElevationPicture, boxW: number, boxH: number): Buffer {
  const { w, h } = fitInto(pic.widthMm, pic.heightMm, boxW, boxH);
  const fields = Math.max(1, Math.min(8, pic.fields ?? Math.max(1, Math.round(pic.widthMm / 1200))));
  const frame = Math.max(1, Math.round(Math.min(w, h) * 0.04));
  const margin = pic.withDimensions ? Math.max(1, Math.round(Math.min(w, h) * 0.06)) : 0;
  const frameRgb = pic.exterior ? [64, 68, 72] : [235, 235, 235];
  const edgeRgb = [40, 40, 40];
  const glassRgb = [196, 222, 240];
  const bgRgb = [255, 255, 255];
  const dimRgb = [200, 30, 30];

  const innerW = w - margin;
  const innerH = h - margin;
  const fieldEdges: number[] = [];
  for (let f = 1; f < fields; f++) fieldEdges.push(Math.round((innerW * f) / fields));

  const raw = Buffer.alloc((w * 3 + 1) * h);
  let o = 0;
  for (let y = 0; y < h; y++) {
    raw[o++] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      let c = bgRgb;
      if (x < innerW && y < innerH) {
        const edge = x === 0 || y === 0 || x === innerW - 1 || y === innerH - 1;
        const inFrame = x < frame || y < frame || x >= innerW - frame || y >= innerH - frame;
        const mullion = fieldEdges.some((m) => Math.abs(x - m) < Math.max(1, frame / 2));
        c = edge ? edgeRgb : inFrame || mullion ? frameRgb : glassRgb;
        // a diagonal sash hint in every field, like the opening symbols on real drawings
        if (!inFrame && !mullion && fields > 0) {
          const fw = innerW / fields;
          const fx = x % fw;
          if (Math.abs(fx / fw - y / innerH) < 0.01) c = edgeRgb;
        }
      } else if (margin > 0 && ((y === h - Math.ceil(margin / 2) && x < innerW) || (x === w - Math.ceil(margin / 2) && y < innerH))) {
        c = dimRgb;
      }
      raw[o++] = c[0]!;
      raw[o++] = c[1]!;
      raw[o++] = c[2]!;
    }
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Reads width and height from a PNG's IHDR; undefined when the bytes are not a PNG. */
export function pngSize(buf: Buffer): { width: number; height: number } | undefined {
  if (buf.length < 24 || !buf.subarray(0, 8).equals(PNG_SIGNATURE) || buf.toString('ascii', 12, 16) !== 'IHDR') return undefined;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
