/**
 * Numbers for people: counts with thousands separators, sizes in binary
 * units, durations via common/duration.ts. Used by the human output of
 * `ior stats` (the JSON output keeps raw integers).
 */
export { formatDurationNs } from '../common/duration.js';

export function formatCount(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 0 B, 512 B, 4.0 KiB, 1.23 MiB, 12.3 GiB: three significant digits above 1 KiB. */
export function formatBytes(n: number): string {
  let unit = 0;
  let value = n;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${n} B`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** A size-class bound: exact powers of two read better as 4 KiB than 4.00 KiB. */
export function formatSizeBound(n: number): string {
  let unit = 0;
  let value = n;
  while (value >= 1024 && value % 1024 === 0 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value} ${BYTE_UNITS[unit]}`;
}

/** Bytes per second as 1.23 MiB/s. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/**
 * Offsets from the trace's start: +1.234 s; with `resolutionNs` (the span
 * they delimit), enough decimals to tell its ends apart (+0.299417 s).
 */
export function formatOffsetNs(ns: number, resolutionNs = 1e6): string {
  const decimals = Math.min(9, Math.max(3, Math.ceil(-Math.log10(Math.max(1, resolutionNs) / 1e9)) + 1));
  return `${ns < 0 ? '-' : '+'}${(Math.abs(ns) / 1e9).toFixed(decimals)} s`;
}
