// The table of subcommands. Each module owns its options and help text.

export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: CliCommand[] = [];
