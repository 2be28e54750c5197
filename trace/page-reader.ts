/**
 * The fast path of TraceReader: decodes the column chunks trace/pages.ts
 * writes (v1 data pages, zstd; PLAIN or DELTA_BINARY_PACKED integers,
 * RLE_DICTIONARY strings, RLE definition levels) straight into the
 * EventBatch representation of the column. hyparquet's generic path
 * (per-value BigInt deltas, level arrays run through its list assembly, a
 * promise per page, then our copy into typed arrays) was most of the time
 * `ior stats` spent reading (docs/stats.md, "Performance").
 * decodeChunk returns null for any chunk laid out otherwise (older traces,
 * other writers): TraceReader gives those to hyparquet.
 */
import type { ColumnMetaData, SchemaElement } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import type { CodedInt32, CodedInt64, CodedStrings, ColumnDef } from '../schema/index.js';
import { zstdDecompressPage } from './zstd.js';

const TWO_32 = 2 ** 32;

/** A read position in a byte array. */
interface Cursor {
  bytes: Uint8Array;
  at: number;
}

/** No page of trace/pages.ts comes near this uncompressed (a row group's column is a few MB). */
const MAX_PAGE_BYTES = 1 << 30;

/** A page's bytes do not say what pages of trace/pages.ts say (a damaged file): the reader reports the row group. */
function corrupt(what: string): never {
  throw new Error(`corrupt page: ${what}`);
}

function varint(c: Cursor): number {
  let v = 0;
  let scale = 1;
  for (;;) {
    if (c.at >= c.bytes.length || scale > 2 ** 63) corrupt('a varint runs past the end of the page');
    const b = c.bytes[c.at++]!;
    v += (b & 0x7f) * scale;
    if (b < 0x80) return v;
    scale *= 128;
  }
}

/** A ZigZag ULEB128 int64, into halves[0] (low word) and halves[1] (high word, signed). */
function zigzag64(c: Cursor, halves: Int32Array): void {
  let lo = 0;
  let hi = 0;
  for (let shift = 0; ; shift += 7) {
    if (c.at >= c.bytes.length || shift > 63) corrupt('a zigzag varint runs past the end of the page');
    const b = c.bytes[c.at++]!;
    const bits = b & 0x7f;
    if (shift < 32) lo |= bits << shift;
    if (shift > 25) hi |= shift >= 32 ? bits << (shift - 32) : bits >>> (32 - shift);
    if (b < 0x80) break;
  }
  const sign = -(lo & 1);
  halves[0] = ((lo >>> 1) | (hi << 31)) ^ sign;
  halves[1] = (hi >>> 1) ^ sign;
}

/**
 * Reads bit-packed values LSB first from byte `at` on. The pending bits
 * stay below 8 between reads, so a read of up to 24 bits never overflows
 * the 32-bit accumulator.
 */
class BitReader {
  private acc = 0;
  private bits = 0;
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {}

  seek(at: number): void {
    this.at = at;
    this.acc = 0;
    this.bits = 0;
  }

  /** the next n (0..24) bits */
  take(n: number): number {
    while (this.bits < n) {
      this.acc |= this.bytes[this.at++]! << this.bits;
      this.bits += 8;
    }
    const v = this.acc & ((1 << n) - 1);
    this.acc >>>= n;
    this.bits -= n;
    return v;
  }

  /** the next n (0..32) bits, as an unsigned number */
  take32(n: number): number {
    return n > 24 ? this.take(16) + this.take(n - 16) * 65536 : this.take(n);
  }
}

/** RLE/bit-packed hybrid values (dictionary indexes, definition levels) into out[0, n). */
function rleHybrid(c: Cursor, bitWidth: number, out: Int32Array | Uint8Array, n: number): void {
  const bytes = c.bytes;
  const width = (bitWidth + 7) >> 3;
  const bits = new BitReader(bytes);
  let seen = 0;
  while (seen < n) {
    const header = varint(c);
    // every run moves on (a run of 0 values would loop for ever), within the page
    if (header >>> 1 === 0 || c.at > bytes.length) corrupt('an empty or overlong RLE/bit-packed run');
    if (header & 1) {
      // bit-packed groups of 8 values
      const count = (header >>> 1) * 8;
      const end = Math.min(seen + count, n);
      bits.seek(c.at);
      for (let i = seen; i < end; i++) out[i] = bits.take32(bitWidth);
      c.at += (count * bitWidth) / 8;
      seen = end;
    } else {
      const count = header >>> 1;
      let v = 0;
      for (let b = 0; b < width; b++) v |= bytes[c.at++]! << (8 * b);
      out.fill(v, seen, Math.min(seen + count, n));
      seen += count;
    }
  }
}

/**
 * DELTA_BINARY_PACKED int64s into words[2 * from, 2 * (from + n)) (the
 * halves of a BigInt64Array), with 64-bit wrapping arithmetic on halves:
 * no value becomes a BigInt.
 */
function deltaInt64(c: Cursor, words: Int32Array, from: number, n: number): void {
  const blockSize = varint(c);
  const miniblocks = varint(c);
  const total = varint(c);
  if (total !== n) throw new Error(`DELTA_BINARY_PACKED page holds ${total} values, expected ${n}`);
  const perMini = blockSize / miniblocks;
  // each miniblock moves on by whole bytes (Parquet: blocks of a multiple of 128, miniblocks of 32)
  if (!(blockSize > 0 && miniblocks > 0 && Number.isInteger(perMini) && perMini % 8 === 0)) corrupt(`DELTA_BINARY_PACKED block of ${blockSize} in ${miniblocks} miniblocks`);
  const halves = new Int32Array(2);
  zigzag64(c, halves);
  let lo = halves[0]! >>> 0;
  let hi = halves[1]!;
  let out = 2 * from;
  const end = 2 * (from + n);
  if (n === 0) return;
  words[out++] = lo;
  words[out++] = hi;
  const bytes = c.bytes;
  const bits = new BitReader(bytes);
  while (out < end) {
    zigzag64(c, halves);
    const minLo = halves[0]! >>> 0;
    const minHi = halves[1]!;
    const widthsAt = c.at;
    c.at += miniblocks;
    if (c.at > bytes.length) corrupt('DELTA_BINARY_PACKED runs past the end of the page');
    for (let m = 0; m < miniblocks && out < end; m++) {
      const width = bytes[widthsAt + m]!;
      if (width > 64) corrupt(`DELTA_BINARY_PACKED width ${width}`);
      bits.seek(c.at);
      const lowWidth = Math.min(width, 32);
      const highWidth = Math.max(width - 32, 0);
      const count = Math.min(perMini, (end - out) / 2);
      for (let k = 0; k < count; k++) {
        // delta = min + the packed unsigned value; value += delta, carrying from the low words
        // (width 0: every delta is the minimum, as for seq; no bits to read)
        lo += minLo + (lowWidth === 0 ? 0 : bits.take32(lowWidth));
        let carry = 0;
        while (lo >= TWO_32) {
          lo -= TWO_32;
          carry++;
        }
        hi = (hi + minHi + (highWidth === 0 ? 0 : bits.take32(highWidth)) + carry) | 0;
        words[out++] = lo;
        words[out++] = hi;
      }
      c.at += (perMini * width) / 8;
    }
  }
}

/** The page header at reader.offset and its compressed bytes; the reader moves past them. */
function nextPage(reader: { view: DataView; offset: number }, chunk: Uint8Array): { header: ReturnType<typeof parquetHeader>; compressed: Uint8Array } {
  const header = parquetHeader(reader);
  // a page inside the chunk (a negative size would go back and loop), of a size a row group can have
  if (!(header.compressed_page_size >= 0 && reader.offset + header.compressed_page_size <= chunk.length)) corrupt(`a page of ${header.compressed_page_size} bytes in a chunk of ${chunk.length}`);
  if (!(header.uncompressed_page_size >= 0 && header.uncompressed_page_size <= MAX_PAGE_BYTES)) corrupt(`a page of ${header.uncompressed_page_size} bytes uncompressed`);
  const compressed = chunk.subarray(reader.offset, reader.offset + header.compressed_page_size);
  reader.offset += header.compressed_page_size;
  return { header, compressed };
}

/** How the file's schema element must look for the fast path: as this ior writes it. */
function sameElement(written: SchemaElement, expected: SchemaElement): boolean {
  return written.type === expected.type && written.repetition_type === expected.repetition_type;
}

/**
 * Decode one column chunk (`chunk`: its bytes, from its first page to its
 * end) of `rows` rows as `column`'s batch array: Int32Array or
 * BigInt64Array for required numbers, an array with nulls for nullable ones,
 * an array of strings (or nulls) for strings; when `coded`, CodedStrings for
 * strings and CodedInt32 / CodedInt64 for nullable numbers.
 * Null if the chunk is not laid out as trace/pages.ts writes it.
 * With `scratch`, the typed arrays are the scratch's, reused by the next
 * call: what is returned is valid until then.
 */
export function decodeChunk(chunk: Uint8Array, column: ColumnDef, meta: ColumnMetaData, written: SchemaElement, expected: SchemaElement, rows: number, coded = false, scratch: ColumnScratch | null = null): unknown | null {
  if (meta.codec !== 'ZSTD' || !sameElement(written, expected)) return null;
  const reader = { view: new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength), offset: 0 };
  const nullable = column.nullable;
  const isString = column.kind === 'string';
  const isInt32 = column.kind === 'int32';
  // the non-null values, packed: dictionary indexes, or the typed array itself for required numbers
  const packed = isString || isInt32 ? reuse(scratch, 'ints', rows, Int32Array) : reuse(scratch, 'wide', rows, BigInt64Array);
  const defs = nullable ? reuse(scratch, 'defs', rows, Uint8Array) : null;
  let dictionary: string[] | null = null;
  let row = 0; // rows decoded so far
  let value = 0; // non-null values decoded so far
  while (reader.offset < chunk.length) {
    const { header, compressed } = nextPage(reader, chunk);
    if (header.type === 'DICTIONARY_PAGE') {
      if (!isString || dictionary !== null || header.dictionary_page_header?.encoding !== 'PLAIN') return null;
      dictionary = plainStrings(zstdDecompressPage(compressed, header.uncompressed_page_size), header.dictionary_page_header.num_values);
      continue;
    }
    const daph = header.data_page_header;
    if (header.type !== 'DATA_PAGE' || daph === undefined) return null;
    const n = daph.num_values;
    if (row + n > rows) throw new Error(`column ${column.name} has more values than its row group's ${rows} rows`);
    // the page body is valid until the next page is decompressed: it is decoded here, before that
    const body: Cursor = { bytes: zstdDecompressPage(compressed, header.uncompressed_page_size), at: 0 };
    let nonNull = n;
    if (defs !== null) {
      if (daph.definition_level_encoding !== 'RLE') return null;
      const length = new DataView(body.bytes.buffer, body.bytes.byteOffset).getUint32(0, true);
      body.at = 4;
      rleHybrid(body, 1, defs.subarray(row), n);
      body.at = 4 + length;
      nonNull = countSet(defs, row, row + n);
    }
    if (isString) {
      if (dictionary === null || (daph.encoding !== 'RLE_DICTIONARY' && daph.encoding !== 'PLAIN_DICTIONARY')) return null;
      const bitWidth = body.bytes[body.at++]!;
      rleHybrid(body, bitWidth, (packed as Int32Array).subarray(value), nonNull);
    } else if (daph.encoding === 'PLAIN') {
      const width = isInt32 ? 4 : 8;
      // the page is the values' little-endian bytes: one copy into the typed array
      new Uint8Array(packed.buffer, value * width, nonNull * width).set(body.bytes.subarray(body.at, body.at + nonNull * width));
    } else if (daph.encoding === 'DELTA_BINARY_PACKED' && !isInt32) {
      deltaInt64(body, new Int32Array(packed.buffer), value, nonNull);
    } else return null;
    row += n;
    value += nonNull;
  }
  if (row !== rows) throw new Error(`column ${column.name} has ${row} values, its row group ${rows} rows`);
  if (isString) {
    const dict = dictionary ?? [];
    if (!coded) return strings(dict, packed as Int32Array, defs, rows, column.name);
    checkCodes((packed as Int32Array).subarray(0, value), dict.length, column.name);
    const codes = defs === null ? (packed as Int32Array) : spreadCodes(packed as Int32Array, defs, reuse(scratch, 'codes', rows, Int32Array));
    return { dictionary: dict, codes } satisfies CodedStrings;
  }
  if (defs === null) return packed;
  if (coded && isInt32) return { values: spreadInts(packed as Int32Array, defs, reuse(scratch, 'spreadInts', rows, Int32Array)), defs } satisfies CodedInt32;
  if (coded) return { values: spreadWide(packed as BigInt64Array, defs, reuse(scratch, 'spread', rows, BigInt64Array)), defs } satisfies CodedInt64;
  return withNulls(packed, defs, rows);
}

/** 32-bit values spread over the rows of `out`, 0 where defs says null. */
function spreadInts(packed: Int32Array, defs: Uint8Array, out: Int32Array): Int32Array {
  for (let i = 0, k = 0; i < out.length; i++) out[i] = defs[i] ? packed[k++]! : 0;
  return out;
}

/** 64-bit values spread over the rows of `out`, 0 where defs says null: copied as 32-bit halves (no bigint made per value). */
function spreadWide(packed: BigInt64Array, defs: Uint8Array, out: BigInt64Array): BigInt64Array {
  const from = new Int32Array(packed.buffer, packed.byteOffset, packed.length * 2), to = new Int32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let i = 0, k = 0; i < out.length; i++) {
    if (defs[i]) {
      to[2 * i] = from[2 * k]!;
      to[2 * i + 1] = from[2 * k + 1]!;
      k++;
    } else to[2 * i] = to[2 * i + 1] = 0;
  }
  return out;
}

// The loops over rows live in small functions of their own: in decodeChunk
// they were deoptimized each time a chunk of another column kind took
// another branch, and ran unoptimized for whole chunks.

/** How many of levels[from, to) are 1. */
/**
 * Before a chunk of another layout goes to hyparquet's decoder: its version-1
 * data pages' RLE/bit-packed streams (definition levels, dictionary indexes)
 * walked with this file's decoder, which throws on a damaged one. hyparquet's
 * loops for ever on a run of 0 values; a stream that passes here has none.
 * Pages of other kinds are left to hyparquet (it reads what it knows).
 */
export function checkLevelStreams(chunk: Uint8Array, nullable: boolean, rows: number): void {
  const reader = { view: new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength), offset: 0 };
  const scratch = new Int32Array(rows);
  while (reader.offset < chunk.length) {
    const { header, compressed } = nextPage(reader, chunk);
    const daph = header.data_page_header;
    if (header.type !== 'DATA_PAGE' || daph === undefined) continue;
    const n = daph.num_values;
    if (!(n >= 0 && n <= rows)) corrupt(`a page of ${n} values in a row group of ${rows} rows`);
    const body: Cursor = { bytes: zstdDecompressPage(compressed, header.uncompressed_page_size), at: 0 };
    let nonNull = n;
    if (nullable && daph.definition_level_encoding === 'RLE') {
      const length = new DataView(body.bytes.buffer, body.bytes.byteOffset).getUint32(0, true);
      body.at = 4;
      rleHybrid(body, 1, scratch, n);
      nonNull = 0;
      for (let i = 0; i < n; i++) nonNull += scratch[i]!;
      body.at = 4 + length;
    }
    if (daph.encoding === 'RLE_DICTIONARY' || daph.encoding === 'PLAIN_DICTIONARY') {
      const bitWidth = body.bytes[body.at++]!;
      if (bitWidth > 32) corrupt(`dictionary indexes of ${bitWidth} bits`);
      rleHybrid(body, bitWidth, scratch, nonNull);
    }
  }
}

function countSet(levels: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) count += levels[i]!;
  return count;
}

/** A string column: each row's dictionary entry (the same string object for each use), or null where defs says so. */
function strings(dict: string[], indexes: Int32Array, defs: Uint8Array | null, rows: number, name: string): (string | null)[] {
  const out: (string | null)[] = new Array(rows);
  const entry = (index: number) => {
    const s = dict[index];
    if (s === undefined) throw new Error(`column ${name}: dictionary index ${index} out of range`);
    return s;
  };
  if (defs === null) for (let i = 0; i < rows; i++) out[i] = entry(indexes[i]!);
  else for (let i = 0, k = 0; i < rows; i++) out[i] = defs[i] ? entry(indexes[k++]!) : null;
  return out;
}

/** Dictionary indexes spread over the rows of `out`, -1 where defs says null. */
function spreadCodes(packed: Int32Array, defs: Uint8Array, out: Int32Array): Int32Array {
  for (let i = 0, k = 0; i < out.length; i++) out[i] = defs[i] ? packed[k++]! : -1;
  return out;
}

/**
 * Typed arrays one column's decoding keeps from a row group to the next:
 * allocating them anew for each row group cost page faults and collections
 * worth a fifth of a cold `ior stats`.
 */
export interface ColumnScratch {
  ints?: Int32Array;
  wide?: BigInt64Array;
  spread?: BigInt64Array;
  spreadInts?: Int32Array;
  defs?: Uint8Array;
  codes?: Int32Array;
}

type ScratchArray = Int32Array | BigInt64Array | Uint8Array;

/** A `rows`-long array of the scratch's `slot` (grown when too short), or a new one without a scratch. */
function reuse<K extends keyof ColumnScratch>(scratch: ColumnScratch | null, slot: K, rows: number, make: new (n: number) => NonNullable<ColumnScratch[K]>): NonNullable<ColumnScratch[K]> {
  if (scratch === null) return new make(rows);
  let have = scratch[slot] as ScratchArray | undefined;
  if (have === undefined || have.length < rows) scratch[slot] = (have = new make(rows)) as ColumnScratch[K];
  // a view from offset 0: decoders address the values through .buffer
  return have.subarray(0, rows) as NonNullable<ColumnScratch[K]>;
}

/** The dictionary indexes of the non-null values: each in [0, size) (a 32-bit wide one can read as negative). */
function checkCodes(codes: Int32Array, size: number, name: string): void {
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c < 0 || c >= size) throw new Error(`column ${name}: dictionary index ${c >>> 0} out of range`);
  }
}

/** A nullable number column: the packed non-null values spread over the rows, null where defs says so. */
function withNulls(packed: Int32Array | BigInt64Array, defs: Uint8Array, rows: number): (number | bigint | null)[] {
  const out: (number | bigint | null)[] = new Array(rows);
  for (let i = 0, k = 0; i < rows; i++) out[i] = defs[i] ? packed[k++]! : null;
  return out;
}

/** PLAIN BYTE_ARRAY values (u32 length, UTF-8) as strings. */
function plainStrings(bytes: Uint8Array, count: number): string[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = new Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const length = buf.readUInt32LE(at);
    out[i] = buf.toString('utf8', at + 4, at + 4 + length);
    at += 4 + length;
  }
  return out;
}
