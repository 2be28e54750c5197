/**
 * The trace footer: one JSON document stored in the Parquet key/value
 * metadata under FOOTER_KEY, written when a capture ends (so it can hold the
 * final loss counters) and validated with Zod by every reader.
 */
import { z } from 'zod';
import { CaptureBuildSchema } from './wire.js';

/** Bumped when columns are appended, rows of a new kind appear (4: process lifecycle), or the footer changes incompatibly. */
export const SCHEMA_VERSION = 4;
export const FOOTER_KEY = 'ior.footer';
export const FORMAT_NAME = 'ior-trace';

/** int64 values that JSON cannot carry exactly are decimal strings. */
const bigintString = z.string().regex(/^-?\d+$/, 'a decimal integer string');
const count = z.number().int().nonnegative();

export const LossCountersSchema = z.object({
  ringbuf_drops: count.describe('events dropped in kernel: ring buffer full'),
  inflight_full: count.describe('events dropped in kernel: too many calls in flight to remember the entry'),
  loader_queue_dropped: count.describe('events dropped by the loader: TypeScript side too slow for too long'),
  unpaired_exits: count.describe('calls that began before the capture attached (exit seen, entry not)'),
  unpaired_enters: count.describe('calls still in flight when the capture stopped (entry seen, exit not)'),
  unresolved_fds: count.describe('events whose fd could not be mapped to a path'),
  path_truncated: count.describe('events whose path was longer than the capture limit'),
  path_faults: count.describe('events whose path argument could not be read'),
  /** version 2; absent in older traces */
  async_unreaped: count.optional().describe('async operations whose completion was not seen before the capture ended (reaped outside a syscall, or still in flight)'),
  async_unmatched: count.optional().describe('async completions whose submission was not seen (submitted before the capture, or its record lost)'),
  async_batch: count.optional().describe('async operations not recorded: past the most read per io_submit/io_getevents call, or an unreadable iocb'),
  disk_full_dropped: count.optional().describe('events decoded but not written: the trace file system was full (or over quota) from then on'),
});
export type LossCounters = z.infer<typeof LossCountersSchema>;

export const FooterSchema = z.object({
  format: z.literal(FORMAT_NAME),
  schema_version: z.number().int().positive(),
  ior_version: z.string(),
  host: z.object({
    hostname: z.string(),
    kernel_release: z.string(),
    arch: z.string(),
    cpus: z.number().int().positive(),
  }),
  /** add to ts_ns to get Unix epoch ns */
  boot_to_wall_ns: bigintString,
  start_ts_ns: bigintString,
  end_ts_ns: bigintString,
  start_wall: z.string(),
  end_wall: z.string(),
  capture: z.object({
    argv: z.array(z.string()),
    command: z.array(z.string()).nullable(),
    filters: z.object({
      pids: z.array(z.number().int()),
      comm: z.string().nullable(),
      path_prefix: z.array(z.string()),
      syscalls: z.array(z.string()).nullable(),
      follow: z.boolean(),
    }),
    loader_version: z.string(),
    libbpf_version: z.string(),
    ring_bytes: z.number().int().nonnegative(),
    attached: z.array(z.string()),
    skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
    /** hooks and build of the BPF programs, and their load (verifier included) and attach time; absent in older traces */
    hooks: z.enum(['raw', 'tracepoints']).optional(),
    build: CaptureBuildSchema.optional(),
    load_ms: z.number().nonnegative().optional(),
    attach_ms: z.number().nonnegative().optional(),
    /** the io_uring tracepoint that gave io_uring's operations, null: not captured on that kernel; absent before schema version 2 */
    io_uring_tracepoint: z.string().nullable().optional(),
  }),
  events: count,
  /** events the kernel recorded but the path-prefix filter left out (not a loss) */
  filtered_out: count,
  losses: LossCountersSchema,
  /** recovered: the writer died, `ior recover` rebuilt the trace up to its last checkpoint */
  stop_reason: z.enum(['duration', 'signal', 'command-exited', 'loader-exited', 'error', 'recovered', 'disk-full', 'replay-completed', 'replay-stopped']),
  command_exit: z.object({ code: z.number().int().nullable(), signal: z.string().nullable() }).nullable(),
  /** the loader ended without its END frame (killed, crashed): its exit; the events it held then are lost, their number unknown. Absent in older traces */
  loader_died: z.object({ code: z.number().int().nullable(), signal: z.string().nullable() }).nullable().optional(),
  /**
   * Present in the ops file of a replay (`ior replay --ops-out`, schema 3): its rows are the calls the
   * replay issued, not a capture's (capture.argv is the replay's command line, the rest of capture empty)
   */
  replay: z.object({ trace: z.string(), target: z.string(), speed: z.string(), confinement: z.string(), workers: count }).optional(),
});
export type Footer = z.infer<typeof FooterSchema>;

export function emptyLosses(): LossCounters {
  return { ringbuf_drops: 0, inflight_full: 0, loader_queue_dropped: 0, unpaired_exits: 0, unpaired_enters: 0, unresolved_fds: 0, path_truncated: 0, path_faults: 0, async_unreaped: 0, async_unmatched: 0, async_batch: 0, disk_full_dropped: 0 };
}

/** Sum of the counters that are real losses of events (not annotations). */
export function eventsLost(losses: LossCounters): number {
  return losses.ringbuf_drops + losses.inflight_full + losses.loader_queue_dropped + (losses.async_batch ?? 0) + (losses.disk_full_dropped ?? 0);
}
