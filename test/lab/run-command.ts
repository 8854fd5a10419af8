// Thin wrappers over child_process for the lab: every command is an argv array
// (never a shell string), so addresses and names cannot be re-interpreted.
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class LabCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    super(
      `lab command failed (exit ${String(result.code ?? result.signal)}): ${argv.join(' ')}\n${result.stderr.trim()}`,
    );
    this.name = 'LabCommandError';
  }
}

export function run(argv: readonly string[], input?: string): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (!child.stdout || !child.stderr) throw new Error('run: child has no output pipes');
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (input !== undefined && child.stdin) {
      // A child that exits without reading its input is not an error of ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

export async function runOk(argv: readonly string[], input?: string): Promise<string> {
  const result = await run(argv, input);
  if (result.code !== 0) throw new LabCommandError(argv, result);
  return result.stdout;
}

/** argv prefix that runs a command inside a network namespace. */
export function inNs(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}
