// Where `lbcheck run` writes: this process's own streams, or, in the kept
// process behind --persist (persist-server.ts), the client's socket.
export interface RunOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const PROCESS_OUTPUT: RunOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};
