#!/usr/bin/env node
// The lbcheck process entry: the core commands plus those that need the chat
// adapters (serve, start) and the queue workers (worker). Only the table is
// loaded here; each command imports its own modules when it runs.
import { SERVE, START, WORKER } from '../src/cli/command-specs.js';
import { coreCommands, type CliCommand } from '../src/cli/commands.js';
import { runCli } from '../src/cli/main.js';

const processCommands: CliCommand[] = [
  { ...START, oneShot: false, load: async () => (await import('./serve-command.js')).startMain },
  { ...SERVE, oneShot: false, load: async () => (await import('./serve-command.js')).serveMain },
  { ...WORKER, oneShot: false, load: async () => (await import('../src/cli/worker-command.js')).workerMain },
];

runCli(process.argv.slice(2), [...coreCommands, ...processCommands]);
