// What `lbcheck run --persist` and its kept process (persist-server.ts) say
// to each other over the Unix socket: one JSON line asking for a run, then
// JSON lines of output and the exit code. Light on purpose: the client side
// is on every persisted run's path, so it loads nothing more than this.

/** The run to do: the command line as the user typed it, where, and how long to stay after it. */
export interface PersistRequest {
  args: string[];
  cwd: string;
  persistSeconds: number;
}

/** The kept process's answer, line by line: output as it comes, then the exit code; or busy with another run. */
export type PersistAnswer = { stdout: string } | { stderr: string } | { exit: number } | { busy: true };

/** Longest request line accepted: a command line, not a file. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export const line = (message: PersistRequest | PersistAnswer): string => `${JSON.stringify(message)}\n`;

/** Splits a byte stream into complete lines, keeping a partial one for the next chunk. */
export class LineReader {
  private rest = '';

  push(chunk: Buffer | string): string[] {
    const text = this.rest + chunk.toString();
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.filter((l) => l !== '');
  }

  get pending(): number {
    return this.rest.length;
  }
}
