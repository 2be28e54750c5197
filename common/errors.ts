/**
 * IorError: an error the user caused or can fix. The CLI prints its message
 * as one line (no stack) and exits with `exitCode`. Anything else that
 * escapes is a bug and is printed with its stack.
 */
export class IorError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'IorError';
  }
}

/** errno-style code of a Node system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
