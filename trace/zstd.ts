/**
 * zstd for Parquet pages, through zstd-napi (the reference C library as a
 * Node addon): about 1.7x faster than the wasm builds measured here.
 */
// A static import, so that the bundle of dist/ior includes zstd-napi's JS and
// loads its addon from the unpacked assets (scripts/sea/bundle.ts).
import * as zstd from 'zstd-napi';

/** Level 3 is zstd's default: the column data is small after encoding, speed matters more. */
export const ZSTD_LEVEL = 3;

export function zstdCompress(input: Uint8Array): Uint8Array {
  return zstd.compress(input, { compressionLevel: ZSTD_LEVEL });
}

export function zstdDecompress(input: Uint8Array): Uint8Array {
  return zstd.decompress(input);
}
