// The command table: names, usage and summaries are plain data, and each
// command's code is loaded only when that command runs (dynamic import). So
// `lbcheck --help` or `lbcheck run` never pays for modules it does not use
// (Bolt, botbuilder, BullMQ cost about a second to import).

/** A command's entry point: returns the process exit code. */
export type CommandMain = (args: string[]) => Promise<number>;

export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  /**
   * One-shot commands (run, audit) end the process as soon as their output is
   * written, whatever sockets or timers a probe left behind. Long-running ones
   * (start, serve, worker) return only when they have shut down.
   */
  oneShot: boolean;
  load(): Promise<CommandMain>;
}

export const coreCommands: CliCommand[] = [
  {
    name: 'run',
    usage: 'run <target> [options]',
    summary: 'run the three-step checklist against a VIP and print the verdicts and diagnosis',
    oneShot: true,
    load: async () => (await import('./run-command.js')).runMain,
  },
  {
    name: 'audit',
    usage: 'audit show|list|verify|export|prune ...',
    summary: 'what was posted, by whom and when; verify the hash chain and the evidence; export a check',
    oneShot: true,
    load: async () => (await import('./audit-command.js')).auditMain,
  },
  {
    name: 'sudoers',
    usage: 'sudoers [--config FILE]',
    summary: 'print the install script (two helpers, one sudoers rule) for LB accounts that are not root (sudo: true)',
    oneShot: true,
    load: async () => (await import('./sudoers-command.js')).sudoersMain,
  },
];
