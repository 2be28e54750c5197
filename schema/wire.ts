/**
 * The JSON frames of the loader -> TypeScript stream (docs/wire-format.md).
 * The binary event record is decoded in capture/decode.ts; its layout is
 * struct ior_event in bpf/ior.h.
 */
import { z } from 'zod';

/** One row of bpf/syscalls.def: which argument plays which role (-1 none, -2 implied AT_FDCWD). */
export const SyscallEntrySchema = z.object({
  id: z.number().int(),
  name: z.string(),
  nargs: z.number().int(),
  kind: z.union([z.number().int(), z.string()]),
  fd: z.number().int(),
  fd2: z.number().int(),
  dirfd: z.number().int(),
  path: z.number().int(),
  dirfd2: z.number().int(),
  path2: z.number().int(),
  count: z.number().int(),
  offset: z.number().int(),
  flags: z.number().int(),
  mode: z.number().int(),
  pos: z.number().int(),
});
export type SyscallEntry = z.infer<typeof SyscallEntrySchema>;

/** Which build of the BPF programs the loader picked for this kernel (native/probe.c, build_name). */
export const CaptureBuildSchema = z.enum(['btf', 'core', 'core-novma']);

export const HelloFrameSchema = z.object({
  loader_version: z.string(),
  libbpf_version: z.string(),
  wire_version: z.number().int(),
  event_size: z.number().int(),
  boot_to_wall_ns: z.union([z.string(), z.number()]),
  ring_bytes: z.number().int(),
  /** raw (tp_btf sys_enter/sys_exit) or tracepoints (syscalls/sys_*_NAME) */
  hooks: z.enum(['raw', 'tracepoints']),
  /** the programs' build: btf (bpf_rdonly_cast, 6.2+), core (CO-RE + bpf_find_vma, 5.17+), core-novma */
  build: CaptureBuildSchema,
  /** how long loading (verifier included) and attaching took */
  load_ms: z.number(),
  attach_ms: z.number(),
  loader_pid: z.number().int(),
  child_pid: z.number().int().nullable().optional(),
  syscalls: z.array(SyscallEntrySchema),
  attached: z.array(z.string()),
  skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
  /** ids (the record's syscall field) of the process lifecycle records: enum ior_record */
  records: z.object({
    fork: z.number().int(), exec: z.number().int(), exit: z.number().int(),
    /** async I/O records (struct ior_event + struct ior_async): the ids are consecutive, aio_submit first */
    aio_submit: z.number().int(), aio_reap: z.number().int(), uring_submit: z.number().int(), uring_complete: z.number().int(), uring_file: z.number().int(),
  }),
  /** bytes of struct ior_async */
  async_size: z.number().int(),
  /** the io_uring tracepoint that gives io_uring's operations, null: not captured on this kernel */
  io_uring_tracepoint: z.string().nullable(),
  /** command mode: the cwd and inherited fds (readlink targets) the command starts with */
  command_files: z.object({ cwd: z.string().nullable(), fds: z.record(z.string(), z.string()) }).nullable().optional(),
});
export type HelloFrame = z.infer<typeof HelloFrameSchema>;

/** Counters summed over CPUs, by name (enum ior_counter and the loader's own). */
export const CountersSchema = z.record(z.string(), z.number());

export const StatsFrameSchema = z.object({ counters: CountersSchema }).passthrough();
export type StatsFrame = z.infer<typeof StatsFrameSchema>;

export const LogFrameSchema = z.object({ level: z.enum(['info', 'warn', 'error']), message: z.string() });
export type LogFrame = z.infer<typeof LogFrameSchema>;

export const EndFrameSchema = z
  .object({
    counters: CountersSchema,
    unpaired_enters: z.number().int().nonnegative(),
    reason: z.string(),
    child: z.object({ code: z.number().int().nullable(), signal: z.union([z.string(), z.number()]).nullable() }).nullable().optional(),
  })
  .passthrough();
export type EndFrame = z.infer<typeof EndFrameSchema>;
