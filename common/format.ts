/**
 * Numbers for people, shared by every stage's human output: counts with
 * thousands separators, sizes in binary units. (JSON output keeps raw integers.)
 */
export function formatCount(n: number): string {
  // not toLocaleString: its first call loads ICU (~24 ms) and each call costs ~56 us
  if (!Number.isFinite(n)) return String(n);
  return Math.round(n).toString().replace(/\B(?=(\d{3})+$)/g, ',');
}

export const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

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

/** A path for a one-line message: whole up to `max` characters, else its head and tail around how much was left out (a traced path can be tens of KiB). */
export function shortPath(p: string, max = 160): string {
  if (p.length <= max) return p;
  const keep = Math.floor((max - 30) / 2);
  return `${p.slice(0, keep)}...(${formatCount(p.length - 2 * keep)} characters)...${p.slice(-keep)}`;
}
