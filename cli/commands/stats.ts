import { Option } from 'clipanion';
import * as t from 'typanion';
import { BaseCommand, quietOnClosedPipe, useColour } from '../base.js';
import { IorError } from '../../common/errors.js';
import { parseDurationNs } from '../../common/duration.js';
import { BREAKDOWN_DIMENSIONS, DEFAULT_STATS_OPTIONS, type BreakdownDimension } from '../../stats/options.js';

/** Room the chart leaves for its labels: "  read  |" ... "|  peak 123.45 MiB/s". */
const CHART_MARGIN = 32;

export class StatsCommand extends BaseCommand {
  static override paths = [['stats']];
  static override usage = BaseCommand.Usage({
    description: 'summarize a trace: totals, losses, per-syscall latency, top files and processes, I/O rate, sizes',
    details: `
      Streams the trace once (memory does not grow with its length) and prints what ran and where the time went: totals (events, span, processes, threads, files, bytes read and written, errors), every loss counter of the capture, a per-syscall table (calls, errors, bytes, time, latency p50/p95/p99/max), the top files by bytes and by time, the top processes, the commonest errors, the slowest calls, the I/O rate over time as a chart, and read and write size distributions.

      \`--threads N\` reads the trace with N threads, each a share of its row groups (the figures are the same; it pays off only with idle cores). Percentiles come from a log-bucketed histogram and are within 0.4% of the exact value. Offsets for \`--since\`/\`--until\` count from the capture's start (60, 1.5s, 500ms, 2m). Colour only on a terminal; set NO_COLOR to turn it off. See docs/stats.md for every figure's definition.
    `,
    examples: [
      ['Summarize a trace', 'ior stats trace.parquet'],
      ['Latency per file, 20 rows', 'ior stats trace.parquet --by file --top 20'],
      ['Only postgres under /var/lib/pg between 10 s and 20 s', 'ior stats trace.parquet --comm postgres --path-prefix /var/lib/pg --since 10s --until 20s'],
      ['The same figures as one JSON document', 'ior stats trace.parquet --json'],
    ],
  });

  file = Option.String({ name: 'trace.parquet' });
  top = Option.String('--top', String(DEFAULT_STATS_OPTIONS.top), { description: 'rows in each ranked list (default 10)', validator: t.cascade(t.isNumber(), t.isInteger(), t.isInInclusiveRange(1, 1_000_000)) });
  by = Option.String('--by', 'syscall', { description: 'breakdown table per syscall (default), file, process or dir' });
  pids = Option.Array('--pid', [], { description: 'only events of this process (repeatable)', validator: t.isArray(t.cascade(t.isNumber(), t.isInteger())) as never });
  comm = Option.String('--comm', { description: 'only events of tasks with this name' });
  pathPrefix = Option.Array('--path-prefix', [], { description: 'only events whose path or path2 starts with this (repeatable)' });
  since = Option.String('--since', { description: "only events from this offset after the capture's start (10s, 500ms, 2m)" });
  until = Option.String('--until', { description: "only events before this offset after the capture's start" });
  threads = Option.String('--threads', String(DEFAULT_STATS_OPTIONS.threads), { description: 'threads reading the trace in parallel, each a share of its row groups (default 1)', validator: t.cascade(t.isNumber(), t.isInteger(), t.isInInclusiveRange(1, 64)) });
  json = Option.Boolean('--json', false, { description: 'print the same content as one JSON document' });

  async execute(): Promise<number> {
    if (!(BREAKDOWN_DIMENSIONS as readonly string[]).includes(this.by)) {
      throw new IorError(`--by ${JSON.stringify(this.by)} is not a breakdown: use ${BREAKDOWN_DIMENSIONS.join(', ')}`);
    }
    const sinceNs = this.since === undefined ? null : Number(parseDurationNs(this.since, '--since'));
    const untilNs = this.until === undefined ? null : Number(parseDurationNs(this.until, '--until'));
    if (sinceNs !== null && untilNs !== null && untilNs <= sinceNs) {
      throw new IorError(`--until ${this.until} is not after --since ${this.since}: nothing would be left`);
    }
    const { computeStats, ReadProgress, renderStats } = await import('../../stats/index.js');
    const stdout = this.context.stdout as NodeJS.WriteStream;
    quietOnClosedPipe(stdout);
    const terminalWidth = stdout.isTTY && stdout.columns ? stdout.columns : 80 + CHART_MARGIN;
    const progress = ReadProgress.on(this.context.stderr, 'ior stats: reading', this.json);
    const report = await computeStats(this.file, {
      top: Number(this.top),
      by: this.by as BreakdownDimension,
      pids: this.pids.map(Number),
      comm: this.comm ?? null,
      pathPrefixes: this.pathPrefix,
      sinceNs,
      untilNs,
      // the JSON document does not depend on the terminal it is printed on
      chartColumns: this.json ? DEFAULT_STATS_OPTIONS.chartColumns : Math.max(10, Math.min(DEFAULT_STATS_OPTIONS.chartColumns, terminalWidth - CHART_MARGIN)),
      threads: Number(this.threads),
    }, progress?.update).finally(() => progress?.done());
    stdout.write(this.json ? JSON.stringify(report, null, 2) + '\n' : renderStats(report, { colour: useColour(stdout) }));
    return 0;
  }
}
