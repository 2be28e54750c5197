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
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Default pool size: a worker per traced thread, up to this many. */
export const DEFAULT_MAX_WORKERS = 16;
