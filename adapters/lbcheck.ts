#!/usr/bin/env node
// The lbcheck process entry: the core commands plus those that need the chat
// adapters (serve, start) and the queue workers (worker).
import { coreCommands } from '../src/cli/commands.js';
import { runCli } from '../src/cli/main.js';
import { workerCommand } from '../workers/worker-command.js';
import { serveCommand, startCommand } from './serve-command.js';

runCli(process.argv.slice(2), [...coreCommands, startCommand, serveCommand, workerCommand]);
