/**
 * Durations on the command line: "60" (seconds), "1.5s", "500ms", "2m", "1h",
 * "250us", "100ns". Returns nanoseconds as a bigint, or throws an IorError
 * naming the option.
 */
import { IorError } from './errors.js';

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function parseDurationNs(text: string, option: string): bigint {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new IorError(`${option} ${JSON.stringify(text)} is not a duration: use e.g. 60, 1.5s, 500ms, 2m or 1h`);
  return BigInt(Math.round(Number(m[1]) * UNIT_NS[m[2] ?? 's']!));
}

/** "1.23 s", "45.6 ms", "789 µs", "12 ns": for people, not parsing. */
export function formatDurationNs(ns: number): string {
  const abs = Math.abs(ns);
  if (abs >= 60e9) return `${(ns / 60e9).toFixed(1)} min`;
  if (abs >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (abs >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (abs >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${Math.round(ns)} ns`;
}
