/**
 * Column chunk encoders for the trace's own column kinds, written as one
 * data page per chunk (plus a dictionary page for strings). The pages are
 * DATA_PAGE (v1), whose definition levels are compressed with the values:
 * in v2 pages they are not, which cost 1 bit per row (0.125 B/event) for
 * each column that alternates between null and not. The encoding
 * of each column is fixed by its kind, not sampled from the data:
 *   - int32, and int64 without `delta`: PLAIN, the typed array's bytes as
 *     they are (zstd does the rest, and cheaply: the data repeats);
 *   - int64 with `delta` (seq, ts_ns): DELTA_BINARY_PACKED, computed on
 *     32-bit halves, exact over the whole int64 range with no BigInt;
 *   - strings: RLE_DICTIONARY (few syscall names, comms, file types, and
 *     paths that repeat), the dictionary built with one Map per chunk.
 * hyparquet-writer's generic path (per-value INT64 range checks, dictionary
 * sampling, BigInt deltas) cost about 2 us of CPU per event here; this,
 * with the row group copy, about a sixth of that (docs/benchmarks.md,
 * "Pipeline capacity").
 * Scratch buffers live in the ChunkEncoder and are reused for every chunk.
 */
import type { ColumnChunk, ColumnMetaData, Encoding, ParquetType } from 'hyparquet';
import type { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import type { ColumnDef } from '../schema/index.js';
import { zstdCompress } from './zstd.js';

/** A growable byte buffer, reused: `length` is reset per use, the memory kept. */
export class Bytes {
  buf = new Uint8Array(1 << 16);
  length = 0;

  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  byte(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  /** ULEB128 of a non-negative number below 2^53. */
  varint(v: number): void {
    this.reserve(8);
    while (v > 0x7f) {
      this.buf[this.length++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.length++] = v;
  }

  /** ZigZag ULEB128 of the int64 (lo, hi). */
  zigzag64(lo: number, hi: number): void {
    // (v << 1) ^ (v >> 63), on halves
    const sign = hi >> 31;
    let zlo = ((lo << 1) ^ sign) >>> 0;
    let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
    this.reserve(10);
    while (zhi !== 0 || zlo > 0x7f) {
      this.buf[this.length++] = (zlo & 0x7f) | 0x80;
      zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
      zhi >>>= 7;
    }
    this.buf[this.length++] = zlo;
  }

  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Overwrite 4 bytes at `at` with the little-endian u32 v. */
  setUint32(at: number, v: number): void {
    this.buf[at] = v & 0xff;
    this.buf[at + 1] = (v >>> 8) & 0xff;
    this.buf[at + 2] = (v >>> 16) & 0xff;
    this.buf[at + 3] = v >>> 24;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const bitLength = (x: number) => 32 - Math.clz32(x);

/**
 * RLE/bit-packed hybrid (dictionary indexes, definition levels) of
 * values[0, n), each below 2^bitWidth: runs of 8 or more equal values as RLE
 * runs, the rest bit-packed in groups of 8.
 */
export function rleHybrid(out: Bytes, values: ArrayLike<number>, n: number, bitWidth: number): void {
  const width = (bitWidth + 7) >> 3;
  let packedStart = 0; // first value not yet written
  let i = 0;
  while (i < n) {
    const v = values[i]!;
    let run = 1;
    while (i + run < n && values[i + run] === v) run++;
    // a run starts an RLE run only at a group boundary of the pending bit-packed values
    if (run >= 8 && (i - packedStart) % 8 === 0) {
      if (i > packedStart) bitPack(out, values, packedStart, i, bitWidth);
      out.varint(run * 2);
      out.reserve(width);
      for (let b = 0; b < width; b++) out.buf[out.length++] = (v >>> (8 * b)) & 0xff;
      i += run;
      packedStart = i;
    } else {
      i += Math.min(run, 8 - ((i - packedStart) % 8));
    }
  }
  if (n > packedStart) bitPack(out, values, packedStart, n, bitWidth);
}

/** One bit-packed run of values[start, end), padded with zeros to a multiple of 8 values. */
function bitPack(out: Bytes, values: ArrayLike<number>, start: number, end: number, bitWidth: number): void {
  const groups = Math.ceil((end - start) / 8);
  out.varint(groups * 2 + 1);
  packBits(out, values, null, start, end, groups * 8, bitWidth);
}

/**
 * Bit-packs `slots` values from `start`, LSB first, `width` bits each
 * (0..64; past 32 the high halves come from `high`), zeros from `end` on.
 * A value goes in as pieces of at most 24 bits, so that the pending bits
 * (fewer than 8) and the piece fit in one 32-bit integer together.
 */
function packBits(out: Bytes, low: ArrayLike<number>, high: ArrayLike<number> | null, start: number, end: number, slots: number, width: number): void {
  if (width === 0) return;
  out.reserve(Math.ceil((slots * width) / 8));
  const buf = out.buf;
  let at = out.length;
  let acc = 0;
  let bits = 0;
  const put = (v: number, n: number) => {
    acc |= v << bits;
    bits += n;
    while (bits >= 8) {
      buf[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  };
  const putWide = (v: number, n: number) => {
    if (n > 24) {
      put(v & 0xffff, 16);
      put(v >>> 16, n - 16);
    } else put(v, n);
  };
  const lowWidth = Math.min(width, 32);
  for (let i = start; i < start + slots; i++) {
    const inRange = i < end;
    putWide(inRange ? low[i]! >>> 0 : 0, lowWidth);
    if (width > 32) putWide(inRange ? high![i]! >>> 0 : 0, width - 32);
  }
  out.length = at;
}

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = BLOCK / MINIBLOCKS;

/**
 * DELTA_BINARY_PACKED of n int64 values given as 32-bit halves
 * (words[2i] low, words[2i+1] high, as an Int32Array over a BigInt64Array).
 * Deltas wrap at 64 bits as the format says; all arithmetic is on halves.
 */
function deltaInt64(out: Bytes, words: Int32Array, n: number, scratch: Int32Array): void {
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(n);
  if (n === 0) {
    out.byte(0);
    return;
  }
  out.zigzag64(words[0]!, words[1]!);
  const dlo = scratch.subarray(0, BLOCK);
  const dhi = scratch.subarray(BLOCK, 2 * BLOCK);
  for (let first = 1; first < n; first += BLOCK) {
    const size = Math.min(BLOCK, n - first);
    // deltas of this block, and their signed minimum
    let minLo = 0;
    let minHi = 0;
    for (let k = 0; k < size; k++) {
      const j = 2 * (first + k);
      const aLo = words[j]! >>> 0;
      const bLo = words[j - 2]! >>> 0;
      const lo = (aLo - bLo) >>> 0;
      const hi = (words[j + 1]! - words[j - 1]! - (aLo < bLo ? 1 : 0)) | 0;
      dlo[k] = lo;
      dhi[k] = hi;
      if (k === 0 || hi < minHi || (hi === minHi && lo < minLo >>> 0)) {
        minLo = lo;
        minHi = hi;
      }
    }
    out.zigzag64(minLo, minHi);
    // adjusted = delta - min, unsigned 64-bit, kept in place
    const widthsAt = out.length;
    out.reserve(MINIBLOCKS);
    out.length += MINIBLOCKS;
    for (let k = 0; k < size; k++) {
      const lo = dlo[k]! >>> 0;
      const mlo = minLo >>> 0;
      dlo[k] = lo - mlo;
      dhi[k] = (dhi[k]! - minHi - (lo < mlo ? 1 : 0)) | 0;
    }
    for (let m = 0; m < MINIBLOCKS; m++) {
      const start = m * MINI;
      const end = Math.min(start + MINI, size);
      let orLo = 0;
      let orHi = 0;
      for (let k = start; k < end; k++) {
        orLo |= dlo[k]!;
        orHi |= dhi[k]!;
      }
      const width = start >= size ? 0 : orHi !== 0 ? 32 + bitLength(orHi) : bitLength(orLo);
      out.buf[widthsAt + m] = width;
      if (start < size) packBits(out, dlo, dhi, start, end, MINI, width);
    }
  }
}

/** The min and max of n int64 values (as halves), as bigint; `unsigned` orders them as uint64. */
function minMax64(words: Int32Array, n: number, unsigned: boolean): { min: bigint; max: bigint } | undefined {
  if (n === 0) return undefined;
  // compare the high halves as signed (int64) or unsigned (uint64), then the low halves unsigned
  const flip = unsigned ? 0x80000000 : 0;
  let minAt = 0;
  let maxAt = 0;
  let minHi = words[1]! ^ flip, minLo = words[0]! >>> 0;
  let maxHi = minHi, maxLo = minLo;
  for (let i = 1; i < n; i++) {
    const hi = words[2 * i + 1]! ^ flip;
    const lo = words[2 * i]! >>> 0;
    if (hi < minHi || (hi === minHi && lo < minLo)) {
      minHi = hi;
      minLo = lo;
      minAt = i;
    }
    if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
      maxHi = hi;
      maxLo = lo;
      maxAt = i;
    }
  }
  const values = unsigned ? new BigUint64Array(words.buffer, words.byteOffset, n) : new BigInt64Array(words.buffer, words.byteOffset, n);
  return { min: values[minAt]!, max: values[maxAt]! };
}

const PHYSICAL: Record<ColumnDef['kind'], ParquetType> = { int32: 'INT32', int64: 'INT64', uint64: 'INT64', string: 'BYTE_ARRAY' };

/**
 * Encodes one column chunk at a time onto a Writer. One instance per trace
 * file: its scratch arrays grow to the largest chunk and are reused.
 */
export class ChunkEncoder {
  private readonly body = new Bytes();
  private readonly dict = new Bytes();
  private readonly deltaScratch = new Int32Array(2 * BLOCK);
  private defs = new Uint8Array(0);
  private indexes = new Int32Array(0);
  private int32s = new Int32Array(0);
  private int64s = new BigInt64Array(0);

  constructor(private readonly writer: ByteWriter) {}

  /**
   * Write `data` (n rows, the column's batch array: typed array for required
   * numbers, array with nulls for nullable ones, string array) as a chunk.
   */
  write(column: ColumnDef, data: ArrayLike<unknown>, n: number): ColumnChunk {
    const writer = this.writer;
    const start = writer.offset;
    const body = this.body; // definition levels, then the values: compressed together
    body.length = 0;
    if (this.defs.length < n) {
      this.defs = new Uint8Array(n);
      this.indexes = new Int32Array(n);
      this.int32s = new Int32Array(n);
      this.int64s = new BigInt64Array(n);
    }
    let nonNull = n;
    if (column.nullable) {
      nonNull = this.definitionLevels(data as ArrayLike<unknown>, n);
      body.length = 4; // u32 byte length of the levels, set below
      rleHybrid(body, this.defs, n, 1);
      body.setUint32(0, body.length - 4);
    }

    let dictionaryOffset: bigint | undefined;
    let uncompressed = 0;
    let encoding: Encoding;
    let raw: Uint8Array; // page body before compression
    let statistics: ColumnMetaData['statistics'];
    if (column.kind === 'string') {
      dictionaryOffset = BigInt(writer.offset);
      const entries = this.dictionaryOf(data as ArrayLike<string | null>, n);
      uncompressed += this.page(writer, this.dict.view(), { type: 'DICTIONARY_PAGE', dictionary_page_header: { num_values: entries, encoding: 'PLAIN' } });
      encoding = 'RLE_DICTIONARY';
      const width = entries > 1 ? bitLength(entries - 1) : 0;
      body.byte(width);
      rleHybrid(body, this.indexes, nonNull, width);
      raw = body.view();
    } else {
      const isInt32 = column.kind === 'int32';
      let typed: Int32Array | BigInt64Array;
      if (!column.nullable) typed = data as Int32Array | BigInt64Array;
      else typed = isInt32 ? this.compact32(data as ArrayLike<number | null>, n) : this.compact64(data as ArrayLike<bigint | null>, n);
      typed = typed.subarray(0, nonNull);
      if ('delta' in column && column.delta) {
        // (only int64 columns are marked delta.) They carry min/max: readers prune row groups by time range with them
        const words = new Int32Array(typed.buffer, typed.byteOffset, 2 * nonNull);
        encoding = 'DELTA_BINARY_PACKED';
        deltaInt64(body, words, nonNull, this.deltaScratch);
        raw = body.view();
        const range = minMax64(words, nonNull, column.kind === 'uint64');
        statistics = { min_value: range?.min, max_value: range?.max, null_count: BigInt(n - nonNull) };
      } else {
        encoding = 'PLAIN';
        const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
        // a required column's page is its typed array as it is: no copy
        if (column.nullable) body.append(bytes);
        raw = column.nullable ? body.view() : bytes;
      }
    }

    const dataOffset = BigInt(writer.offset);
    uncompressed += this.page(writer, raw, {
      type: 'DATA_PAGE',
      data_page_header: { num_values: n, encoding, definition_level_encoding: 'RLE', repetition_level_encoding: 'RLE' },
    });
    return {
      file_offset: BigInt(start),
      meta_data: {
        type: PHYSICAL[column.kind],
        encodings: dictionaryOffset === undefined ? [encoding] : ['PLAIN', encoding],
        path_in_schema: [column.name],
        codec: 'ZSTD',
        num_values: BigInt(n),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(writer.offset - start),
        data_page_offset: dataOffset,
        dictionary_page_offset: dictionaryOffset,
        statistics,
      },
    };
  }

  /** Header, then the compressed body. Returns the page's uncompressed size with its header. */
  private page(writer: ByteWriter, raw: Uint8Array, header: Omit<Parameters<typeof writePageHeader>[1], 'uncompressed_page_size' | 'compressed_page_size'>): number {
    const compressed = zstdCompress(raw);
    const headerAt = writer.offset;
    writePageHeader(writer, { ...header, uncompressed_page_size: raw.length, compressed_page_size: compressed.length });
    const headerSize = writer.offset - headerAt;
    writer.appendBytes(compressed);
    return headerSize + raw.length;
  }

  /** defs[i] = 1 where data[i] is not null; returns how many are not. */
  private definitionLevels(data: ArrayLike<unknown>, n: number): number {
    const defs = this.defs;
    let count = 0;
    for (let i = 0; i < n; i++) count += defs[i] = data[i] === null ? 0 : 1;
    return count;
  }

  /** The non-null values of data[0, n), packed (compact32 and compact64: one typed array each, so each loop stays monomorphic). */
  private compact32(data: ArrayLike<number | null>, n: number): Int32Array {
    const out = this.int32s;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v !== null) out[k++] = v!;
    }
    return out;
  }

  private compact64(data: ArrayLike<bigint | null>, n: number): BigInt64Array {
    const out = this.int64s;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v !== null) out[k++] = v!;
    }
    return out;
  }

  /**
   * Dictionary page bytes (PLAIN: u32 length + UTF-8 per entry) into
   * this.dict and each non-null value's entry index into this.indexes;
   * returns the number of entries. Consecutive rows mostly repeat a value
   * (the same string object): that skips the Map lookup.
   */
  private dictionaryOf(data: ArrayLike<string | null>, n: number): number {
    const dict = this.dict;
    dict.length = 0;
    const ids = new Map<string, number>();
    const indexes = this.indexes;
    let last: string | null = null;
    let lastId = -1;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (v === null) continue;
      if (v !== last) {
        let id = ids.get(v);
        if (id === undefined) {
          id = ids.size;
          ids.set(v, id);
          const bytes = Buffer.byteLength(v);
          dict.reserve(4 + bytes);
          new DataView(dict.buf.buffer, dict.buf.byteOffset).setUint32(dict.length, bytes, true);
          Buffer.from(dict.buf.buffer, dict.buf.byteOffset, dict.buf.length).write(v, dict.length + 4, 'utf8');
          dict.length += 4 + bytes;
        }
        last = v;
        lastId = id;
      }
      indexes[k++] = lastId;
    }
    return ids.size;
  }
}
