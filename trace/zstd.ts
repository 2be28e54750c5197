/**
 * zstd for Parquet pages, through zstd-napi (the reference C library as a
 * Node addon): about 1.7x faster than the wasm builds measured here.
 */
// Static imports, so that the bundle of dist/ior includes zstd-napi's JS and
// loads its addon from the unpacked assets (scripts/sea/build.ts).
import * as zstd from 'zstd-napi';
import binding from 'zstd-napi/binding.js';

/** Level 3 is zstd's default: the column data is small after encoding, speed matters more. */
export const ZSTD_LEVEL = 3;

export function zstdCompress(input: Uint8Array): Uint8Array {
  return zstd.compress(input, { compressionLevel: ZSTD_LEVEL });
}

export function zstdDecompress(input: Uint8Array): Uint8Array {
  return zstd.decompress(input);
}

// One context and one output buffer for every page the fast reader decodes:
// zstd.decompress sets up a context, asks the frame for its size and
// allocates a buffer per call, which is a good part of the cost of a page.
let context: InstanceType<typeof binding.DCtx> | null = null;
let scratch = new Uint8Array(0);

/**
 * Decompress a page whose size the Parquet page header gives. The result
 * is a view of a buffer the next call reuses: use it (or copy from it)
 * before decompressing another page.
 */
export function zstdDecompressPage(input: Uint8Array, size: number): Uint8Array {
  context ??= new binding.DCtx();
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, 2 * scratch.length));
  const out = scratch.subarray(0, size);
  const written = context.decompress(out, input);
  if (written !== size) throw new Error(`page decompressed to ${written} bytes, its header says ${size}`);
  return out;
}
