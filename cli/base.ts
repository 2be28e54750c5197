/**
 * BaseCommand: what every ior command shares. Errors the user can act on
 * (IorError) and the environment's (a system call's ENOSPC, EIO, EACCES,
 * ...) print as one line `ior: ...` on stderr with the error's exit code;
 * any other error is a bug: one line too, its stack with IOR_DEBUG=1, on
 * stderr as well: stdout is for results (`--json` consumers read it).
 *
 * Commands load their stage (capture/, stats/, replay/, sql/) when they
 * run, not when the CLI starts: `ior stats` does not pay for loading the
 * capture or replay code, nor `ior --version` for any of them. What an
 * option's definition needs (defaults, choices) comes from the stage's
 * small options.ts.
 */
import { Command, UsageError } from 'clipanion';
import { errnoCode, IorError } from '../common/errors.js';

export abstract class BaseCommand extends Command {
  override async catch(error: unknown): Promise<void> {
    if (error instanceof IorError) {
      this.context.stderr.write(`ior: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof UsageError) {
      this.context.stderr.write(`${usageErrorLine(error, this.path[0])}\n`);
      process.exitCode = 1;
      return;
    }
    process.exitCode = 1;
    const code = errnoCode(error);
    if (code !== undefined && /^E[A-Z0-9]+$/.test(code) && !process.env.IOR_DEBUG) {
      // the system refused (a full disk, an I/O error, a permission): its message, one line
      this.context.stderr.write(`ior: ${(error as Error).message.split('\n')[0]}\n`);
      return;
    }
    const message = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
    if (process.env.IOR_DEBUG) this.context.stderr.write(`ior: internal error (a bug: please report it with this text)\n${error instanceof Error ? error.stack : message}\n`);
    else this.context.stderr.write(`ior: internal error (a bug: please report it): ${message}; IOR_DEBUG=1 shows where\n`);
  }
}

/** A command-line mistake (bad option value, unknown option or command) as one line that says where to look. */
export function usageErrorLine(error: unknown, commandName: string | undefined): string {
  const first = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/[;:]\s*did you mean.*$/i, '').replace(/\.$/, '');
  const help = commandName && !commandName.startsWith('-') ? `ior ${commandName} --help` : 'ior --help';
  return `ior: ${first.charAt(0).toLowerCase()}${first.slice(1)}; see '${help}'`;
}

/** Colour only on a terminal and never when NO_COLOR is set. */
export function useColour(stream: NodeJS.WriteStream | NodeJS.WritableStream): boolean {
  return Boolean((stream as NodeJS.WriteStream).isTTY) && !process.env.NO_COLOR;
}

/**
 * `ior ... | head` closes stdout early: stop quietly, as a command killed
 * by SIGPIPE would, instead of an EPIPE stack trace.
 */
export function quietOnClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}
