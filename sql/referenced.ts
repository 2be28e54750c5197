/**
 * Which trace columns a query needs, so `ior sql` imports only those
 * (importing a column costs time; a column the query does not name is
 * never read). Conservative: any `*` that is not `count(*)` means every
 * column; a name counts wherever it appears as a word outside string
 * literals and comments, unless a `(` follows it (a function call), so a
 * miss is impossible and an extra column only costs time. A column left out and then used anyway fails loudly (no such
 * column), never silently.
 */
import { COLUMNS, type ColumnName } from '../schema/index.js';

/** A table needs a column: `SELECT count(*) FROM events` gets this cheap one. */
const FALLBACK_COLUMN: ColumnName = 'pid';

/** The query without 'string literals' and comments; "quoted identifiers" are kept as words. */
function stripLiteralsAndComments(sql: string): string {
  return sql
    .replace(/'(?:[^']|'')*'/g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/["`[\]]/g, ' ');
}

export interface ReferencedColumns {
  /** the query reads the events table at all */
  events: boolean;
  columns: ColumnName[];
}

export function referencedColumns(sql: string): ReferencedColumns {
  const code = stripLiteralsAndComments(sql);
  // a word followed by "(" is a function (count(*), max(x)), not a column
  const words = new Set(code.toLowerCase().match(/[a-z_][a-z0-9_]*(?!\s*\(|[a-z0-9_])/g) ?? []);
  const wildcard = /\*/.test(code.replace(/\(\s*\*\s*\)/g, ' '));
  const columns = COLUMNS.map((c) => c.name).filter((name) => wildcard || words.has(name));
  return { events: words.has('events'), columns: columns.length ? columns : [FALLBACK_COLUMN] };
}
