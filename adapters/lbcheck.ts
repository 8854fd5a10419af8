#!/usr/bin/env node
// The lbcheck process entry: the core commands plus those that need the chat
// adapters (serve, start) and the queue workers (worker). Only the table is
// loaded here; each command imports its own modules when it runs.
import { coreCommands, type CliCommand } from '../src/cli/commands.js';
import { runCli } from '../src/cli/main.js';

const processCommands: CliCommand[] = [
  {
    name: 'start',
    usage: 'start',
    summary: 'run the bot and a probe worker in one process (npm start); console when no chat credentials',
    oneShot: false,
    load: async () => (await import('./serve-command.js')).startMain,
  },
  {
    name: 'serve',
    usage: 'serve',
    summary: 'run the bot side: chat adapters and the report poster (workers run separately)',
    oneShot: false,
    load: async () => (await import('./serve-command.js')).serveMain,
  },
  {
    name: 'worker',
    usage: 'worker [--zone NAME] [--concurrency N]',
    summary: 'run a probe worker: takes checks from Redis, runs them, reports each step',
    oneShot: false,
    load: async () => (await import('../workers/worker-command.js')).workerMain,
  },
];

runCli(process.argv.slice(2), [...coreCommands, ...processCommands]);
