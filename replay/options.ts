/**
 * What `ior replay` takes, apart from the stage itself: the CLI reads these
 * before it loads replay/ (which it does only when the command runs).
 */
export interface ReplayOptions {
  trace: string;
  target: string;
  speed: string;
  workers?: number;
  dryRun: boolean;
  initOnly: boolean;
  noInit: boolean;
  force: boolean;
  /** --root: the traced directory the target stands for (absolute); default /, the whole trace */
  root?: string;
  /** how paths are confined to the target: chroot per executor thread, openat2 walks, or chroot where allowed */
  confine?: Confine;
  /** write one row per replayed op to this file (a trace, schema 3) */
  opsOut?: string;
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const CONFINE_MODES = ['auto', 'chroot', 'openat2'] as const;
export type Confine = (typeof CONFINE_MODES)[number];

/**
 * Executor threads at once at most (--workers): one per lane with ops due,
 * so as many as traced threads were alive at once, up to this many (512 KiB
 * of stack each, most of it never touched).
 */
export const MAX_WORKERS = 4096;
