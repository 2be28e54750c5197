/**
 * Query results for people (an aligned table) and for programs (CSV per
 * RFC 4180, JSON). Integers arrive as bigint (exact to 64 bits) and are
 * printed as digits everywhere, JSON included; blobs as hex.
 */

export type SqlValue = number | bigint | string | Buffer | null;
export type OutputFormat = 'table' | 'csv' | 'json';

function text(value: SqlValue): string {
  if (value === null) return '';
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return String(value);
}

function csvField(value: SqlValue): string {
  const t = text(value);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

function jsonValue(value: SqlValue): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  return JSON.stringify(text(value));
}

/** Writes rows as they come (csv, json) or all at the end (table: widths need every row). */
export class ResultWriter {
  private rows = 0;
  private readonly buffered: SqlValue[][] = [];

  constructor(
    private readonly format: OutputFormat,
    private readonly columns: string[],
    private readonly write: (chunk: string) => void,
    private readonly colour: boolean,
  ) {
    if (format === 'csv') write(columns.map(csvField).join(',') + '\r\n');
    if (format === 'json') write('[');
  }

  row(values: SqlValue[]): void {
    if (this.format === 'csv') this.write(values.map(csvField).join(',') + '\r\n');
    else if (this.format === 'json') {
      const fields = this.columns.map((c, i) => `${JSON.stringify(c)}: ${jsonValue(values[i]!)}`);
      this.write(`${this.rows ? ',' : ''}\n  {${fields.join(', ')}}`);
    } else this.buffered.push(values);
    this.rows++;
  }

  end(): void {
    if (this.format === 'json') this.write(this.rows ? '\n]\n' : ']\n');
    if (this.format === 'table') this.write(this.table());
  }

  private table(): string {
    const paint = (t: string, sgr: string) => (this.colour && t ? `\x1b[${sgr}m${t}\x1b[0m` : t);
    const cells = this.buffered.map((r) => r.map((v) => (v === null ? 'NULL' : text(v))));
    const widths = this.columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j]!.length)));
    const numeric = (v: SqlValue) => typeof v === 'number' || typeof v === 'bigint';
    const lines = [
      paint(this.columns.map((c, j) => c.padEnd(widths[j]!)).join('  ').trimEnd(), '1'),
      paint(widths.map((w) => '-'.repeat(w)).join('  '), '2'),
      ...this.buffered.map((r, i) =>
        r
          .map((v, j) => {
            const padded = numeric(v) ? cells[i]![j]!.padStart(widths[j]!) : cells[i]![j]!.padEnd(widths[j]!);
            return v === null ? paint(padded, '2') : padded;
          })
          .join('  ')
          .trimEnd(),
      ),
      `(${this.rows} row${this.rows === 1 ? '' : 's'})`,
    ];
    return lines.join('\n') + '\n';
  }
}
