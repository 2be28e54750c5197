/**
 * BaseCommand: what every ior command shares. Errors the user can act on
 * (IorError) print as one line `ior: ...` with the error's exit code; any
 * other error is a bug and keeps its stack.
 */
import { Command } from 'clipanion';
import { IorError } from '../common/errors.js';

export abstract class BaseCommand extends Command {
  override async catch(error: unknown): Promise<void> {
    if (error instanceof IorError) {
      this.context.stderr.write(`ior: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}

/** Colour only on a terminal and never when NO_COLOR is set. */
export function useColour(stream: NodeJS.WriteStream | NodeJS.WritableStream): boolean {
  return Boolean((stream as NodeJS.WriteStream).isTTY) && !process.env.NO_COLOR;
}
