/**
 * recoverTrace: rebuild a valid trace from the temp file of a capture whose
 * writer died (kill -9, OOM, a crash), using the journal TraceWriter keeps
 * beside it (trace/writer.ts, `checkpoint`): the file is cut where the last
 * checkpoint's row groups end (a row group being written when it died is
 * dropped), and the footer of that checkpoint is appended, its stop reason
 * `recovered`. Leftovers are found by `leftoverTemps`, which the next
 * capture to the same name calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ByteWriter } from 'hyparquet-writer';
import type { RowGroup } from 'hyparquet';
import { IorError, errnoCode } from '../common/errors.js';
import { processRuns } from '../common/host.js';
import { FooterSchema, type Footer } from '../schema/index.js';
import { journalOf, journalValue, writeFooter, type JournalLine } from './writer.js';

export interface Recovered {
  output: string;
  events: number;
  row_groups: number;
  /** bytes after the last checkpoint, dropped (a row group being written, the rows of its last second) */
  dropped_bytes: number;
  /** when the last checkpoint was taken (the trace covers the capture up to then) */
  checkpoint_wall: string;
}

/** `.NAME.PID.tmp` -> NAME, in the same directory */
const TEMP_NAME = /^\.(.+)\.(\d+)\.tmp$/;

/** Temp files of captures to `finalPath` whose writer is gone (its process no longer runs), with their journals. */
export function leftoverTemps(finalPath: string): string[] {
  const dir = path.dirname(path.resolve(finalPath));
  const base = path.basename(finalPath);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => {
      const m = TEMP_NAME.exec(n);
      return m !== null && m[1] === base && !processRuns(Number(m[2]));
    })
    .map((n) => path.join(dir, n));
}

/** Rebuild `file` (a capture's temp file, or its journal) into `output` (default: the name the capture was writing). */
export function recoverTrace(file: string, output?: string): Recovered {
  const temp = path.resolve(file.endsWith('.journal') ? file.slice(0, -'.journal'.length) : file);
  const journal = journalOf(temp);
  const m = TEMP_NAME.exec(path.basename(temp));
  const target = path.resolve(output ?? (m ? path.join(path.dirname(temp), m[1]!) : `${temp}.parquet`));
  if (!fs.existsSync(temp)) throw new IorError(`cannot recover ${file}: no such file`);
  if (!fs.existsSync(journal)) {
    throw new IorError(`cannot recover ${file}: it has no journal (${path.basename(journal)}); its capture died before its first checkpoint, within a second of starting`);
  }
  if (fs.existsSync(target)) throw new IorError(`cannot recover ${file} into ${target}: it exists; give another name with -o`);
  const lines = readJournal(journal);
  if (lines.length === 0) throw new IorError(`cannot recover ${file}: its journal holds no complete checkpoint`);
  const last = lines.at(-1)!;
  const rowGroups: RowGroup[] = lines.flatMap((l) => l.row_groups);
  const size = fs.statSync(temp).size;
  if (size < last.end) throw new IorError(`cannot recover ${file}: it is ${size} bytes, shorter than the ${last.end} its journal names (not the journal's file?)`);
  const events = rowGroups.reduce((n, g) => n + Number(g.num_rows), 0);
  const footer: Footer = { ...last.footer, events, stop_reason: 'recovered' };
  const out = new ByteWriter();
  writeFooter(out, rowGroups, footer);
  const fd = fs.openSync(temp, 'r+');
  try {
    fs.ftruncateSync(fd, last.end);
    const bytes = new Uint8Array(out.buffer, 0, out.index);
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, last.end + done);
    fs.fsyncSync(fd);
  } catch (err) {
    throw new IorError(`cannot recover ${file}: ${errnoCode(err) ?? String(err)}`);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, target);
  fs.rmSync(journal, { force: true });
  return { output: target, events, row_groups: rowGroups.length, dropped_bytes: size - last.end, checkpoint_wall: last.footer.end_wall };
}

/** The journal's complete lines; a last line cut short by the crash is left out. */
function readJournal(journal: string): JournalLine[] {
  const text = fs.readFileSync(journal, 'utf8');
  const raw = text.split('\n');
  // text ends with '\n' when the last line is complete: the final piece is '' then
  const complete = raw.slice(0, -1);
  return complete.map((line, i) => {
    try {
      const parsed = JSON.parse(line, journalValue) as JournalLine;
      const footer = FooterSchema.safeParse(parsed.footer);
      if (!Array.isArray(parsed.row_groups) || typeof parsed.end !== 'number' || !footer.success) throw new Error('not a checkpoint');
      return { ...parsed, footer: footer.data };
    } catch {
      throw new IorError(`cannot recover from ${path.basename(journal)}: line ${i + 1} is not a checkpoint of ior's`);
    }
  });
}
