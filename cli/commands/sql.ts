import { Option } from 'clipanion';
import { BaseCommand, quietOnClosedPipe, useColour } from '../base.js';
import { IorError } from '../../common/errors.js';

export class SqlCommand extends BaseCommand {
  static override paths = [['sql']];
  static override usage = BaseCommand.Usage({
    description: 'run an SQL query (SQLite) on a trace',
    details: `
      Loads the trace into an in-memory SQLite database and runs one read-only statement (SELECT, WITH ... SELECT, EXPLAIN: nothing that writes, attaches or creates a file). The events are table \`events\`, one row per syscall, with the trace's columns (seq, ts_ns, latency_ns, pid, tid, comm, syscall, fd, fd2, path, path2, flags, mode, offset, count, ret, bytes, file_type); times are integer ns. The footer is table \`meta\` (key, value), with dotted keys such as 'losses.ringbuf_drops' and 'start_ts_ns'.

      Only the columns the query names are loaded, so narrow queries on big traces are fast. Output: an aligned table, or \`--csv\` / \`--json\`. docs/queries.md has a dozen useful queries, and the same with DuckDB directly on the Parquet file.
    `,
    examples: [
      ['Calls and errors per syscall', 'ior sql trace.parquet "SELECT syscall, count(*) AS calls, sum(ret < 0) AS errors FROM events GROUP BY syscall ORDER BY calls DESC"'],
      ['The ten slowest fsyncs', 'ior sql trace.parquet "SELECT seq, pid, path, latency_ns FROM events WHERE syscall = \'fsync\' ORDER BY latency_ns DESC LIMIT 10"'],
      ['Loss counters, as CSV', 'ior sql --csv trace.parquet "SELECT * FROM meta WHERE key LIKE \'losses.%\'"'],
    ],
  });

  csv = Option.Boolean('--csv', false, { description: 'print CSV (RFC 4180) instead of a table' });
  json = Option.Boolean('--json', false, { description: 'print a JSON array of objects instead of a table' });
  file = Option.String({ name: 'trace.parquet' });
  query = Option.String({ name: 'query' });

  async execute(): Promise<number> {
    if (this.csv && this.json) throw new IorError('--csv and --json exclude each other: pick one');
    const [{ runSql }, { ReadProgress }] = await Promise.all([import('../../sql/index.js'), import('../../stats/index.js')]);
    const stdout = this.context.stdout;
    quietOnClosedPipe(stdout);
    const progress = ReadProgress.on(this.context.stderr, 'ior sql: loading', this.csv || this.json);
    await runSql({
      file: this.file,
      query: this.query,
      format: this.csv ? 'csv' : this.json ? 'json' : 'table',
      colour: useColour(stdout),
      write: (chunk) => stdout.write(chunk),
      onProgress: progress?.update,
    }).finally(() => progress?.done());
    return 0;
  }
}
