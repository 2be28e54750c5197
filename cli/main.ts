/**
 * The ior command line: one clipanion command class per file in commands/.
 * Go-style single-dash long options (-duration 60) are accepted everywhere
 * by rewriting them to GNU style before clipanion parses.
 */
import { Cli, Builtins, type Command } from 'clipanion';
import { IOR_VERSION } from '../common/version.js';
import { CaptureCommand } from './commands/capture.js';
import { StatsCommand } from './commands/stats.js';
import { SqlCommand } from './commands/sql.js';
import { ReplayCommand } from './commands/replay.js';
import { VersionCommand } from './commands/version.js';
import { DoctorCommand } from './commands/doctor.js';
import { RecoverCommand } from './commands/recover.js';
import { useColour, usageErrorLine } from './base.js';

export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    // -duration, -o is left alone (one letter), -1 is a value
    out.push(/^-[a-zA-Z][a-zA-Z0-9-]+(=.*)?$/.test(arg) ? `-${arg}` : arg);
  }
  return out;
}

export async function main(argv: readonly string[]): Promise<void> {
  const cli = new Cli({ binaryLabel: 'ior', binaryName: 'ior', binaryVersion: IOR_VERSION, enableCapture: false,
    // clipanion asks the tty module, not stdout: no colour codes in pipes and files
    enableColors: useColour(process.stdout) });
  cli.register(Builtins.HelpCommand);
  cli.register(VersionCommand);
  cli.register(CaptureCommand);
  cli.register(StatsCommand);
  cli.register(SqlCommand);
  cli.register(ReplayCommand);
  cli.register(DoctorCommand);
  cli.register(RecoverCommand);
  const args = normalizeArgv(argv);
  let command: Command;
  try {
    command = cli.process(args, Cli.defaultContext);
  } catch (error) {
    // unknown command or option: one line, not clipanion's page of usages
    const commandNames = new Set(cli.definitions().map((d) => d.path.split(' ')[1]));
    process.stderr.write(`${usageErrorLine(error, commandNames.has(args[0]) ? args[0] : undefined)}\n`);
    process.exitCode = 1;
    return;
  }
  const code = await cli.run(command, Cli.defaultContext);
  if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = code;
}
