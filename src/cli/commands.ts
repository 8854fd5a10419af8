// The command table: each command's spec (command-specs.ts: arguments,
// options, help) and its code, loaded only when that command runs (dynamic
// import). So `lbcheck --help` or `lbcheck run` never pays for modules it does
// not use (Bolt, botbuilder, BullMQ cost about a second to import).
import { AUDIT, RUN, SUDOERS, type CommandSpec } from './command-specs.js';

/** A command's entry point: returns the process exit code. */
export type CommandMain = (args: string[]) => Promise<number>;

export interface CliCommand extends CommandSpec {
  /**
   * One-shot commands (run, audit) end the process as soon as their output is
   * written, whatever sockets or timers a probe left behind. Long-running ones
   * (start, serve, worker) return only when they have shut down.
   */
  oneShot: boolean;
  load(): Promise<CommandMain>;
}

export const coreCommands: CliCommand[] = [
  { ...RUN, oneShot: true, load: async () => (await import('./run-entry.js')).runMain },
  { ...AUDIT, oneShot: true, load: async () => (await import('./audit-command.js')).auditMain },
  { ...SUDOERS, oneShot: true, load: async () => (await import('./sudoers-command.js')).sudoersMain },
];
