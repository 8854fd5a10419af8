// The subcommands defined in core. Each module owns its options and help text.
import { auditCommand } from './audit-command.js';
import { runCommand } from './run-command.js';

export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

export const coreCommands: CliCommand[] = [runCommand, auditCommand];
