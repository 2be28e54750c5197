/**
 * Numbers for people in `ior stats`: the shared count, size and duration
 * formats (common/) plus the ones only stats needs.
 */
import { BYTE_UNITS, formatBytes } from '../common/format.js';

export { formatDurationNs } from '../common/duration.js';
export { formatBytes, formatCount } from '../common/format.js';

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
