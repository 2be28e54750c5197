/**
 * What `ior stats` takes, apart from the stage itself: the CLI reads these
 * before it loads stats/ (which it does only when the command runs).
 */
import type { BreakdownDimension } from './report.js';

export { BREAKDOWN_DIMENSIONS, type BreakdownDimension } from './report.js';

export interface StatsOptions {
  /** length of every ranked list (files, processes, errors, slowest calls, non-syscall breakdowns) */
  top: number;
  by: BreakdownDimension;
  pids: number[];
  comm: string | null;
  pathPrefixes: string[];
  /** keep events whose entry is in [since, until) ns from the trace's start */
  sinceNs: number | null;
  untilNs: number | null;
  /** columns of the I/O rate chart */
  chartColumns: number;
  /** threads reading the trace, each a contiguous share of its row groups */
  threads: number;
}

export const DEFAULT_STATS_OPTIONS: StatsOptions = {
  top: 10,
  by: 'syscall',
  pids: [],
  comm: null,
  pathPrefixes: [],
  sinceNs: null,
  untilNs: null,
  chartColumns: 60,
  threads: 1,
};
