/**
 * A trace as an in-memory SQLite database (better-sqlite3): the events as
 * table `events` (the schema's columns, integers as INTEGER, exact to 64
 * bits) and the footer as table `meta` (key, value), flattened with dotted
 * keys ('losses.ringbuf_drops'). Only the columns the query names are
 * imported, in one transaction, many rows per prepared INSERT.
 */
import Database from 'better-sqlite3';
import { COLUMNS, type ColumnDef, type ColumnName, type Footer } from '../schema/index.js';
import { TraceReader } from '../trace/index.js';
import type { ProgressCallback } from '../stats/index.js';

/** Rows bound per INSERT: fewer calls into SQLite, well under its 32766-variable limit. */
const ROWS_PER_INSERT = 200;
const COLUMN_BY_NAME = new Map<string, ColumnDef>(COLUMNS.map((c) => [c.name, c]));
const MAX_SAFE_HIGH_WORD = 2 ** 21; // |value| < 2^53 <=> high word in [-2^21, 2^21)
const TWO_32 = 2 ** 32;

/** The SQLite value of row `row` of one batch column. */
type ColumnCopier = (column: unknown, row: number) => number | bigint | string | null;

/** int64 as a number when exact (cheaper to bind), else as a bigint. */
function int64Copier(): ColumnCopier {
  let source: BigInt64Array | null = null;
  let words: Int32Array | null = null;
  return (column, row) => {
    if (column !== source) {
      source = column as BigInt64Array;
      words = new Int32Array(source.buffer, source.byteOffset, source.length * 2);
    }
    const high = words![2 * row + 1]!;
    if (high >= -MAX_SAFE_HIGH_WORD && high < MAX_SAFE_HIGH_WORD) return high * TWO_32 + (words![2 * row]! >>> 0);
    return source![row]!;
  };
}

function nullableInt64(column: unknown, row: number): number | bigint | null {
  const v = (column as (bigint | null)[])[row]!;
  if (v === null) return null;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

function plain(column: unknown, row: number): number | string | null {
  return (column as ArrayLike<number | string | null>)[row]!;
}

function copierFor(def: ColumnDef): ColumnCopier {
  if (def.kind === 'int64' || def.kind === 'uint64') return def.nullable ? nullableInt64 : int64Copier();
  return plain;
}

function sqlType(def: ColumnDef): string {
  return `${def.kind === 'string' ? 'TEXT' : 'INTEGER'}${def.nullable ? '' : ' NOT NULL'}`;
}

/** Footer leaves as (dotted key, value): objects are walked, arrays kept as JSON text, *_ns strings become integers. */
export function flattenFooter(footer: Footer): [string, number | bigint | string | null][] {
  const out: [string, number | bigint | string | null][] = [];
  const walk = (value: unknown, key: string) => {
    if (value === null || value === undefined) out.push([key, null]);
    else if (Array.isArray(value)) out.push([key, JSON.stringify(value)]);
    else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, key ? `${key}.${k}` : k);
    else if (typeof value === 'boolean') out.push([key, value ? 1 : 0]);
    // (an integer past int64, in a damaged footer, stays text: SQLite could not bind it)
    else if (typeof value === 'string' && key.endsWith('_ns') && /^-?\d+$/.test(value) && BigInt.asIntN(64, BigInt(value)) === BigInt(value)) out.push([key, BigInt(value)]);
    // a JS number binds as REAL: integers go in as INTEGER
    else if (typeof value === 'number' && Number.isSafeInteger(value)) out.push([key, BigInt(value)]);
    else out.push([key, value as number | string]);
  };
  walk(footer, '');
  return out;
}

/**
 * Open `file` and load it into a new in-memory database; `columns`: the
 * event columns to import, or null for no events table; `onProgress`:
 * called after each row group.
 */
export async function loadTrace(file: string, columns: readonly ColumnName[] | null, onProgress?: ProgressCallback): Promise<Database.Database> {
  const reader = await TraceReader.open(file);
  const db = new Database(':memory:');
  db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value)');
  const insertMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (const [key, value] of flattenFooter(reader.footer)) insertMeta.run(key, value);
  })();
  if (columns === null) return db;

  const defs = columns.map((c) => COLUMN_BY_NAME.get(c)!);
  db.exec(`CREATE TABLE events (${defs.map((d) => `${d.name} ${sqlType(d)}`).join(', ')})`);
  const placeholders = `(${defs.map(() => '?').join(', ')})`;
  const insertMany = db.prepare(`INSERT INTO events VALUES ${Array(ROWS_PER_INSERT).fill(placeholders).join(', ')}`);
  const insertOne = db.prepare(`INSERT INTO events VALUES ${placeholders}`);
  const copiers = defs.map(copierFor);
  const width = defs.length;
  const params: (number | bigint | string | null)[] = new Array(ROWS_PER_INSERT * width);
  const one: (number | bigint | string | null)[] = new Array(width);

  let loaded = 0;
  db.exec('BEGIN');
  try {
    for await (const batch of reader.batches(columns)) {
      const data = defs.map((d) => (batch as unknown as Record<string, unknown>)[d.name]);
      let row = 0;
      for (; row + ROWS_PER_INSERT <= batch.length; row += ROWS_PER_INSERT) {
        for (let r = 0; r < ROWS_PER_INSERT; r++) {
          for (let c = 0; c < width; c++) params[r * width + c] = copiers[c]!(data[c], row + r);
        }
        insertMany.run(params);
      }
      for (; row < batch.length; row++) {
        for (let c = 0; c < width; c++) one[c] = copiers[c]!(data[c], row);
        insertOne.run(one);
      }
      loaded += batch.length;
      onProgress?.(loaded, reader.rowCount);
    }
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    db.close();
    throw err;
  }
  return db;
}
