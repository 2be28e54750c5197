/**
 * sql/: post-mortem SQL on a trace. runSql loads the trace into an
 * in-memory SQLite database (table `events`: only the columns the query
 * names; table `meta`: the footer, flattened) and prints the result as an
 * aligned table, CSV or JSON. docs/queries.md has a dozen useful queries.
 */
import Database from 'better-sqlite3';
import { IorError } from '../common/errors.js';
import { loadTrace } from './database.js';
import { referencedColumns } from './referenced.js';
import { ResultWriter, type OutputFormat, type SqlValue } from './output.js';
import type { ProgressCallback } from '../stats/index.js';

export { loadTrace, flattenFooter } from './database.js';
export { referencedColumns } from './referenced.js';
export type { OutputFormat } from './output.js';

export interface SqlOptions {
  file: string;
  query: string;
  format: OutputFormat;
  colour: boolean;
  write: (chunk: string) => void;
  /** called while the trace loads (rows loaded, rows in the trace) */
  onProgress?: ProgressCallback;
}

/** Output is gathered into chunks this big: one write per row would dominate big results. */
const CHUNK_CHARS = 1 << 16;

function sqlError(err: unknown): unknown {
  // RangeError: better-sqlite3's own complaints about the statement (several statements, parameters)
  if (err instanceof Database.SqliteError || err instanceof RangeError) return new IorError(`SQL error: ${err.message}`);
  return err;
}

export async function runSql(options: SqlOptions): Promise<void> {
  if (options.query.trim() === '') {
    throw new IorError('the query is empty: give one, e.g. ior sql trace.parquet "SELECT syscall, count(*) FROM events GROUP BY syscall"');
  }
  const wanted = referencedColumns(options.query);
  const db = await loadTrace(options.file, wanted.events ? wanted.columns : null, options.onProgress);
  let pending = '';
  const write = (chunk: string) => {
    pending += chunk;
  };
  // a turn of the event loop after each chunk lets a closed stdout (| head) report itself
  const flush = async () => {
    options.write(pending);
    pending = '';
    await new Promise((resolve) => setImmediate(resolve));
  };
  try {
    const statement = db.prepare(options.query);
    // read-only: ior often runs as root, and ATTACH or VACUUM INTO would create files anywhere.
    // A statement that returns rows and changes nothing (sqlite3_stmt_readonly) is all a query needs.
    if (!statement.reader || !statement.readonly) {
      const verb = /^\s*(\w+)/.exec(options.query)?.[1]?.toUpperCase() ?? 'it';
      throw new IorError(`ior sql runs read-only queries (SELECT, WITH ... SELECT, EXPLAIN): ${verb} would change a database or create a file`);
    }
    statement.safeIntegers(true).raw(true);
    const out = new ResultWriter(options.format, statement.columns().map((c) => c.name), write, options.colour);
    for (const row of statement.iterate() as IterableIterator<SqlValue[]>) {
      out.row(row);
      if (pending.length >= CHUNK_CHARS) await flush();
    }
    out.end();
  } catch (err) {
    throw sqlError(err);
  } finally {
    db.close();
  }
  if (pending) await flush();
}
