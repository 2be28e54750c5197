/**
 * stats/: what a trace says at a glance. computeStats streams a trace once
 * (bounded memory) into a StatsReport; renderStats prints it for people;
 * `--json` prints the report itself.
 */
export { computeStats, STATS_COLUMNS } from './aggregate.js';
export { DEFAULT_STATS_OPTIONS, type StatsOptions } from './options.js';
export { renderStats, type RenderOptions } from './render.js';
export { ReadProgress, type ProgressCallback } from './progress.js';
export { BREAKDOWN_DIMENSIONS, type BreakdownDimension, type StatsReport } from './report.js';
export { LogHistogram, HISTOGRAM_RELATIVE_ERROR } from './histogram.js';
export { READ_SYSCALLS, WRITE_SYSCALLS, COPY_SYSCALLS } from './classify.js';
export { formatBytes, formatCount, formatDurationNs, formatOffsetNs, formatRate, formatSizeBound } from './format.js';
