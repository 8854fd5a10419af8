// `lbcheck run`'s entry: parses the arguments, hands a --persist run to this
// user's kept process (persist-client.ts), and otherwise loads the check
// (run-command.ts). Light on purpose: a run answered by the kept process
// loads neither the engine nor SSH, only this and the socket's client.
import { parseRunArgs, persistSeconds } from './run-args.js';
import { PROCESS_OUTPUT, type RunOutput } from './run-output.js';

export async function runMain(args: string[], out: RunOutput = PROCESS_OUTPUT): Promise<number> {
  const p = parseRunArgs(args);
  const persist = persistSeconds(p);
  if (persist > 0) {
    const { runPersisted } = await import('./persist-client.js');
    const code = await runPersisted(args, persist, out);
    if (code !== undefined) return code;
  }
  const { runParsed } = await import('./run-command.js');
  return runParsed(p, out);
}
