/**
 * The human output of `ior stats`: the StatsReport as aligned text, a
 * sparkline chart of the I/O rate and bar charts of transfer sizes.
 * ANSI colour only when asked (the CLI asks on a terminal, never in a pipe).
 */
import { formatBytes, formatCount, formatDurationNs, formatOffsetNs, formatRate, formatSizeBound } from './format.js';
import type { BreakdownDimension, SizeBucket, StatsReport } from './report.js';

type Style = 'bold' | 'dim' | 'red' | 'yellow' | 'cyan' | 'magenta' | 'green';
const SGR: Record<Style, string> = { bold: '1', dim: '2', red: '31', yellow: '33', cyan: '36', magenta: '35', green: '32' };
const SPARKS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const BAR_WIDTH = 30;

export interface RenderOptions {
  colour: boolean;
}

type Cell = string | { text: string; style: Style | null };
type Align = 'left' | 'right';

export function renderStats(report: StatsReport, options: RenderOptions): string {
  const paint = (text: string, style: Style | null) => (options.colour && style && text ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text);
  const heading = (text: string) => paint(text, 'bold');
  const alert = (n: number, text = formatCount(n)) => ({ text, style: n > 0 ? ('red' as const) : null });

  /** Aligned columns; widths from the plain text, colour applied after padding. */
  const table = (headers: string[], aligns: Align[], rows: Cell[][]): string[] => {
    const text = (c: Cell) => (typeof c === 'string' ? c : c.text);
    const widths = headers.map((h, j) => Math.max(h.length, ...rows.map((r) => text(r[j]!).length)));
    const line = (cells: Cell[], headerRow: boolean) =>
      '  ' +
      cells
        .map((c, j) => {
          const padded = aligns[j] === 'right' ? text(c).padStart(widths[j]!) : text(c).padEnd(widths[j]!);
          return paint(padded, headerRow ? 'dim' : typeof c === 'string' ? null : c.style);
        })
        .join('  ')
        .trimEnd();
    return [line(headers, true), ...rows.map((r) => line(r, false))];
  };
  const section = (title: string, body: string[]) => ['', heading(title), ...body];

  const { trace, totals, losses, filters } = report;
  const out: string[] = [];

  out.push(heading(`ior stats ${report.file}`));
  out.push(`  host      ${trace.hostname}, kernel ${trace.kernel_release}, ${trace.arch}, ${trace.cpus} CPUs`);
  out.push(`  capture   ${printable(shellWords(trace.argv))}`);
  if (trace.command) {
    const exit = trace.command_exit ? (trace.command_exit.signal ? `, killed by ${trace.command_exit.signal}` : `, exit ${trace.command_exit.code}`) : '';
    out.push(`  command   ${printable(shellWords(trace.command))}${exit}`);
  }
  out.push(`  time      ${trace.start_wall} .. ${trace.end_wall} (${formatDurationNs(trace.duration_ns)}), stopped: ${trace.stop_reason}`);
  const programs = trace.programs ? `; ${trace.programs.hooks} hooks, ${trace.programs.build} build, loaded in ${formatDurationNs(trace.programs.load_ms * 1e6)}, attached in ${formatDurationNs(trace.programs.attach_ms * 1e6)}` : '';
  out.push(`  ior       ${trace.ior_version}, schema ${trace.schema_version}${programs}`);
  const applied = [
    filters.pids.length ? `pid ${filters.pids.join(',')}` : '',
    filters.comm !== null ? `comm ${filters.comm}` : '',
    filters.path_prefix.length ? `path ${filters.path_prefix.join(',')}*` : '',
    filters.since_ns !== null ? `since ${formatOffsetNs(filters.since_ns)}` : '',
    filters.until_ns !== null ? `until ${formatOffsetNs(filters.until_ns)}` : '',
  ].filter(Boolean);
  if (applied.length) out.push(`  filters   ${paint(applied.join('; '), 'yellow')}`);

  const percentOf = (n: number, of: number) => (of > 0 ? ` (${((100 * n) / of).toFixed(1)}%)` : '');
  out.push(
    ...section('Totals', [
      `  events     ${formatCount(totals.events)}${totals.events !== totals.trace_events ? ` of ${formatCount(totals.trace_events)} in the trace` : ''}`,
      `  span       ${totals.first_offset_ns === null ? '-' : `${formatOffsetNs(totals.first_offset_ns, totals.last_offset_ns! - totals.first_offset_ns)} .. ${formatOffsetNs(totals.last_offset_ns!, totals.last_offset_ns! - totals.first_offset_ns)} (${formatDurationNs(totals.last_offset_ns! - totals.first_offset_ns)})`}`,
      `  processes  ${formatCount(totals.processes)}   threads ${formatCount(totals.threads)}   files ${formatCount(totals.files)}`,
      ...(totals.lifecycle.forks + totals.lifecycle.execs + totals.lifecycle.exits > 0 ? [lifecycleLine(totals.lifecycle, paint)] : []),
      `  read       ${formatBytes(totals.read_bytes)} in ${formatCount(totals.read_calls)} calls`,
      `  written    ${formatBytes(totals.write_bytes)} in ${formatCount(totals.write_calls)} calls`,
      `  errors     ${paint(formatCount(totals.errors), totals.errors ? 'red' : null)}${percentOf(totals.errors, totals.events)}`,
      `  in calls   ${formatDurationNs(totals.time_ns)}`,
    ]),
  );

  const lossNames = Object.keys(losses).filter((k) => k !== 'events_lost') as (keyof typeof losses)[];
  // async_* counters are absent from traces before schema version 2
  const lossCells = lossNames.flatMap((k) => (losses[k] === undefined ? [] : [{ name: k, value: losses[k] }]));
  const lossWidth = Math.max(...lossCells.map((c) => c.name.length + 1 + formatCount(c.value).length));
  const lossLines: string[] = [];
  for (let i = 0; i < lossCells.length; i += 3) {
    lossLines.push(
      '  ' +
        lossCells
          .slice(i, i + 3)
          .map((c) => {
            const n = formatCount(c.value);
            return `${c.name} ${' '.repeat(lossWidth - c.name.length - 1 - n.length)}${paint(n, c.value > 0 && c.name !== 'filtered_out' ? 'red' : null)}`;
          })
          .join('    '),
    );
  }
  const died = report.trace.loader_died;
  const diedLine = died ? [paint(`  the loader died (${died.signal ? `killed by ${died.signal}` : `exit ${died.code}`}): the events it held then are lost, their number unknown`, 'red')] : [];
  const lostLine = losses.events_lost > 0 ? paint(`  ${formatCount(losses.events_lost)} events lost (the counters below)`, 'red') : died ? '  no other events lost' : '  no events lost';
  out.push(...section('Losses', [...diedLine, lostLine, ...lossLines]));

  out.push(...section(breakdownTitle(report.breakdown.by), breakdownTable(report, table, alert)));

  const fileTable = (rows: StatsReport['top_files_by_bytes']) =>
    rows.length === 0
      ? ['  (none)']
      : table(
          ['read', 'written', 'calls', 'time', 'path'],
          ['right', 'right', 'right', 'right', 'left'],
          rows.map((f) => [formatBytes(f.read_bytes), formatBytes(f.write_bytes), formatCount(f.calls), formatDurationNs(f.time_ns), printable(f.path)]),
        );
  out.push(...section('Top files by bytes', fileTable(report.top_files_by_bytes)));
  out.push(...section('Top files by time in calls', fileTable(report.top_files_by_time)));

  out.push(
    ...section(
      'Top processes by time in calls',
      report.top_processes.length === 0
        ? ['  (none)']
        : table(
            ['pid', 'comm', 'calls', 'errors', 'read', 'written', 'time'],
            ['right', 'left', 'right', 'right', 'right', 'right', 'right'],
            report.top_processes.map((p) => [String(p.pid), printable(p.comm), formatCount(p.calls), alert(p.errors), formatBytes(p.read_bytes), formatBytes(p.write_bytes), formatDurationNs(p.time_ns)]),
          ),
    ),
  );

  out.push(
    ...section(
      'Errors',
      report.errors.length === 0
        ? ['  (none)']
        : table(
            ['syscall', 'errno', 'calls'],
            ['left', 'left', 'right'],
            report.errors.map((e) => [e.syscall, `${e.name ?? '?'} (${e.errno})`, alert(e.count)]),
          ),
    ),
  );

  out.push(
    ...section(
      'Slowest calls',
      report.slowest.length === 0
        ? ['  (none)']
        : table(
            ['latency', 'at', 'pid', 'tid', 'comm', 'syscall', 'ret', 'path'],
            ['right', 'right', 'right', 'right', 'left', 'left', 'right', 'left'],
            report.slowest.map((s) => [formatDurationNs(s.latency_ns), formatOffsetNs(s.offset_ns), String(s.pid), String(s.tid), printable(s.comm), s.syscall, alert(s.ret < 0 ? 1 : 0, String(s.ret)), s.path === null ? (s.file_type ? `(${s.file_type})` : '') : printable(s.path)]),
          ),
    ),
  );

  if (report.async.length > 0) {
    // async operations: how deep the queue was when each was submitted
    const depthBuckets = (h: [number, number][]) => {
      const total = h.reduce((n, [, c]) => n + c, 0);
      const bins: [string, number][] = [['1', 0], ['2-3', 0], ['4-7', 0], ['8-15', 0], ['16-31', 0], ['32-63', 0], ['64+', 0]];
      for (const [d, c] of h) bins[Math.min(Math.floor(Math.log2(d)), 6)]![1] += c;
      return bins.filter(([, c]) => c > 0).map(([k, c]) => `${k}:${Math.round((100 * c) / total)}%`).join(' ');
    };
    out.push(
      ...section(
        'Async operations (libaio, io_uring): queue depth at submission',
        table(
          ['operation', 'ops', 'bytes', 'unreaped', 'mean', 'p50', 'p99', 'max', 'depths'],
          ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
          report.async.map((a) => [a.syscall, formatCount(a.ops), formatBytes(a.bytes), alert(a.unreaped), String(a.depth.mean), String(a.depth.p50), String(a.depth.p99), String(a.depth.max), depthBuckets(a.depth.histogram)]),
        ),
      ),
    );
  }

  out.push(...section('I/O rate over time', rateChart(report, paint)));
  out.push(...section('Read sizes (successful calls, bytes transferred)', sizeBars(report.sizes.read, paint)));
  out.push(...section('Write sizes (successful calls, bytes transferred)', sizeBars(report.sizes.write, paint)));
  return out.join('\n') + '\n';
}

/**
 * Text from the trace as one line of the terminal: control characters (a
 * newline in a file name) shown as escapes, so they cannot break the table
 * or move the cursor.
 */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => ({ '\n': '\\n', '\t': '\\t', '\r': '\\r' })[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** argv as a shell would need it typed: words with spaces or specials in single quotes. */
function shellWords(argv: string[]): string {
  return argv.map((w) => (w !== '' && /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function breakdownTitle(by: BreakdownDimension): string {
  const what = { syscall: 'syscall', file: 'file', process: 'process', dir: 'directory' }[by];
  return `Per ${what}, by time in calls (latency p50 / p95 / p99 / max)`;
}

function breakdownTable(
  report: StatsReport,
  table: (headers: string[], aligns: Align[], rows: Cell[][]) => string[],
  alert: (n: number) => Cell,
): string[] {
  const { by, rows, omitted } = report.breakdown;
  if (rows.length === 0) return ['  (none)'];
  const latency = (ns: number | null) => (ns === null ? '-' : formatDurationNs(ns));
  const keyHeader = { syscall: 'syscall', file: 'path', process: 'pid', dir: 'directory' }[by];
  const keyText = (key: string | number | null) => (key === null ? '(no path)' : printable(String(key)));
  const headers = [keyHeader, ...(by === 'process' ? ['comm'] : []), 'calls', 'errors', 'bytes', 'time', 'p50', 'p95', 'p99', 'max'];
  const aligns: Align[] = [by === 'process' ? 'right' : 'left', ...(by === 'process' ? (['left'] as Align[]) : []), ...(Array(8).fill('right') as Align[])];
  const lines = table(
    headers,
    aligns,
    rows.map((r) => [
      keyText(r.key),
      ...(by === 'process' ? [printable(r.comm ?? '')] : []),
      formatCount(r.calls),
      alert(r.errors),
      formatBytes(r.bytes),
      formatDurationNs(r.time_ns),
      latency(r.p50_ns),
      latency(r.p95_ns),
      latency(r.p99_ns),
      latency(r.max_ns),
    ]),
  );
  if (omitted > 0) lines.push(`  ... ${formatCount(omitted)} more (--top)`);
  return lines;
}

function sparkline(values: number[]): { line: string; peak: number } {
  const peak = Math.max(0, ...values);
  const line = values.map((v) => SPARKS[v <= 0 ? 0 : Math.max(1, Math.ceil((v / peak) * (SPARKS.length - 1)))]).join('');
  return { line, peak };
}

function rateChart(report: StatsReport, paint: (text: string, style: Style | null) => string): string[] {
  const rate = report.rate;
  const columns = rate.calls.length;
  if (columns === 0) return ['  (no events)'];
  // the last column ends with the last event, not at a full column width
  const seconds = (c: number) => Math.max(1, Math.min(rate.column_ns, rate.end_offset_ns - rate.start_offset_ns - c * rate.column_ns)) / 1e9;
  const perSecond = (series: number[]) => series.map((v, c) => v / seconds(c));
  const rows: [string, number[], (peak: number) => string, Style][] = [
    ['read', perSecond(rate.read_bytes), formatRate, 'cyan'],
    ['write', perSecond(rate.write_bytes), formatRate, 'magenta'],
    ['calls', perSecond(rate.calls), (peak) => `${formatCount(Math.round(peak))} calls/s`, 'green'],
  ];
  const span = rate.end_offset_ns - rate.start_offset_ns;
  const startLabel = formatOffsetNs(rate.start_offset_ns, span);
  const endLabel = formatOffsetNs(rate.end_offset_ns, span);
  // a middle tick under the middle column when the three labels fit
  const middleColumn = Math.floor(columns / 2);
  const middleLabel = `^${formatOffsetNs(rate.start_offset_ns + (middleColumn + 0.5) * rate.column_ns, span)}`;
  const gap = columns - startLabel.length - endLabel.length - middleLabel.length;
  const axis =
    gap >= 2 && middleColumn > startLabel.length && middleColumn + middleLabel.length < columns - endLabel.length
      ? startLabel.padEnd(middleColumn) + middleLabel.padEnd(columns - middleColumn - endLabel.length) + endLabel
      : startLabel + ' '.repeat(Math.max(1, columns - startLabel.length - endLabel.length)) + endLabel;
  return [
    `  one column = ${formatDurationNs(rate.column_ns)}; each row scaled to its own peak`,
    ...rows.map(([label, values, peakText, style]) => {
      const { line, peak } = sparkline(values);
      return `  ${label.padEnd(5)} |${paint(line, style)}|  peak ${peakText(peak)}`;
    }),
    `         ${axis}`,
  ];
}

function sizeBars(buckets: SizeBucket[], paint: (text: string, style: Style | null) => string): string[] {
  if (buckets.length === 0) return ['  (none)'];
  const total = buckets.reduce((sum, b) => sum + b.calls, 0);
  const most = Math.max(...buckets.map((b) => b.calls));
  const labels = buckets.map((b) => (b.max === 0 ? '0 B' : `[${formatSizeBound(b.min)}, ${formatSizeBound(b.max + 1)})`));
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const counts = buckets.map((b) => formatCount(b.calls));
  const countWidth = Math.max(...counts.map((c) => c.length));
  return buckets.map((b, i) => {
    const bar = b.calls === 0 ? '' : '█'.repeat(Math.max(1, Math.round((b.calls / most) * BAR_WIDTH)));
    return `  ${labels[i]!.padEnd(labelWidth)}  ${paint(bar.padEnd(BAR_WIDTH), 'cyan')}  ${counts[i]!.padStart(countWidth)}  ${((100 * b.calls) / total).toFixed(1).padStart(5)}%`;
  });
}

/** The processes' lifecycle rows, in one line: 2 forks, 2 execs, 3 exits (1 not 0) */
function lifecycleLine(l: StatsReport['totals']['lifecycle'], paint: (text: string, style: 'yellow') => string): string {
  const nonzero = l.exits_nonzero ? ` (${paint(formatCount(l.exits_nonzero), 'yellow')} with a status other than 0)` : '';
  return `  lifecycle  ${formatCount(l.forks)} forks, ${formatCount(l.execs)} execs, ${formatCount(l.exits)} exits${nonzero}`;
}
