/**
 * Bad input for commands that read a trace (ior stats, ior sql): files
 * that are not usable traces, and the shape every error must have.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { REPO_ROOT } from '../../common/assets.js';
import { COLUMNS, FOOTER_KEY, SCHEMA_VERSION } from '../../schema/index.js';
import { event, fixtureFooter, writeFixtureTrace } from './fixture.js';

/** One line on stderr, `ior: ...`, non-zero exit, nothing on stdout, no stack. */
export function assertOneLineError(r: { status: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^ior: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

/** Files that are not usable traces, each with what the one-line error must say. */
export function badTraces(dir: string): { what: string; file: string; error: RegExp }[] {
  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'these are not the droids\n'.repeat(10));
  const plain = path.join(dir, 'plain.parquet');
  parquetWriteFile({ filename: plain, columnData: [{ name: 'x', data: [1, 2, 3], type: 'INT32' }] });
  const newer = writeFixtureTrace(path.join(dir, 'newer.parquet'), [event({ syscall: 'read' })], { schema_version: 99 });
  const whole = fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'stats', 'mixed.parquet'));
  const truncated = path.join(dir, 'truncated.parquet');
  fs.writeFileSync(truncated, whole.subarray(0, whole.length >> 1));
  // an ior footer and every column, but path written as INT64
  const wrongType = path.join(dir, 'wrong-type.parquet');
  parquetWriteFile({
    filename: wrongType,
    columnData: COLUMNS.map((c) =>
      c.name === 'path' ? { name: c.name, data: [5n], type: 'INT64' as const }
      : c.kind === 'string' ? { name: c.name, data: ['x'], type: 'STRING' as const }
      : c.kind === 'int32' ? { name: c.name, data: [0], type: 'INT32' as const }
      : { name: c.name, data: [0n], type: 'INT64' as const }),
    kvMetadata: [{ key: FOOTER_KEY, value: JSON.stringify(fixtureFooter(1)) }],
  });
  return [
    { what: 'not Parquet', file: text, error: /not a Parquet file/ },
    { what: 'a column of the wrong type', file: wrongType, error: /not an ior trace: column path is INT64, expected a string \(BYTE_ARRAY\)$/ },
    { what: 'Parquet, not an ior trace', file: plain, error: /not an ior trace/ },
    { what: 'a newer schema', file: newer, error: new RegExp(`schema version 99, newer than this ior reads \\(${SCHEMA_VERSION}\\): upgrade ior`) },
    { what: 'truncated', file: truncated, error: /truncated/ },
    { what: 'missing', file: path.join(dir, 'nope.parquet'), error: /no such file/ },
    { what: 'a directory', file: dir, error: /not a regular file/ },
  ];
}

