/**
 * The initial state a trace expects under a replay target before its first
 * event: directories, files with at least the sizes it reads, symlinks it
 * reads, paths that must not exist yet. replay/plan.ts works it out; the
 * capture stores it in the trace (Parquet key/value metadata under
 * INIT_KEY, so a first replay into a new target needs no pass over the
 * whole trace) and the replay target's marker remembers it.
 *
 * Paths are relative to the target, normalized (no `.`, `..` or empty
 * components, no leading or trailing `/`): a stored state that is not so is
 * refused, not confined after the fact.
 */
import { z } from 'zod';

export const INIT_KEY = 'ior.replay_init';
/** Bumped when the state changes meaning: stored states and target markers of another version are worked out again (2: copy_file_range and sendfile sources sized). */
export const INIT_STATE_VERSION = 2;

/** A target-relative path as the plan makes them. */
const relPath = z.string().min(1).refine((p) => !p.includes('\0') && p.split('/').every((c) => c !== '' && c !== '.' && c !== '..'), 'a normalized path relative to the target');

export const InitStateSchema = z.object({
  dirs: z.array(relPath),
  files: z.array(z.object({ rel: relPath, size: z.number().int().nonnegative(), executable: z.boolean().optional() })),
  symlinks: z.array(relPath),
  absent: z.array(relPath),
  bytes: z.number().int().nonnegative(),
  /** symlinks the trace made (states stored before this field: unknown) */
  linksMade: z.number().int().nonnegative().optional(),
});

export type InitState = z.infer<typeof InitStateSchema>;

/** The value stored under INIT_KEY (JSON). */
export const StoredInitSchema = z.object({
  version: z.literal(INIT_STATE_VERSION),
  /** events of the trace it was worked out from: a state for fewer (a recovered trace) is not used */
  events: z.number().int().nonnegative(),
  init: InitStateSchema,
});

export type StoredInit = z.infer<typeof StoredInitSchema>;
