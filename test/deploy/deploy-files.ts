// Reading the deploy files (Dockerfile, compose.yaml, systemd units) the way
// their tools do, for the tests that hold them to the package: commands that
// lbcheck has, options of those commands, variables lbcheck reads.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const UNIT_DIR = join(REPO, 'deploy', 'systemd');

export const readRepo = (path: string): string => readFileSync(join(REPO, path), 'utf8');

export interface DockerInstruction {
  stage: string;
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions with their stage name; continuation lines joined, comments left out. */
export function dockerInstructions(text: string): DockerInstruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  let stage = '';
  const out: DockerInstruction[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1] ?? '';
    const args = (m[2] ?? '').trim();
    if (keyword === 'FROM') stage = / AS (\S+)$/i.exec(args)?.[1] ?? args;
    out.push({ stage, keyword, args });
  }
  return out;
}

/** `KEY=value KEY2=value` (an ENV instruction) as names. */
export function envNames(args: string): string[] {
  return [...args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] ?? '');
}

export interface UnitFile {
  file: string;
  /** Every `Key=value` line of the [Service] section, in order (keys repeat). */
  service: [string, string][];
}

export function unitFiles(): UnitFile[] {
  return readdirSync(UNIT_DIR)
    .filter((f) => f.endsWith('.service'))
    .map((file) => {
      const text = readFileSync(join(UNIT_DIR, file), 'utf8');
      const section = text.split(/^\[Service\]$/m)[1]?.split(/^\[/m)[0] ?? '';
      const service = [...section.matchAll(/^([A-Za-z]+)=(.*)$/gm)].map((m): [string, string] => [
        m[1] ?? '',
        m[2] ?? '',
      ]);
      return { file, service };
    });
}

/** The lbcheck arguments of a command line that runs the lbcheck entry (`... lbcheck.js worker --zone %i`). */
export function lbcheckArgs(commandLine: readonly string[]): string[] | undefined {
  const at = commandLine.findIndex((word) => /(^|\/)lbcheck(\.js)?$/.test(word));
  return at < 0 ? undefined : commandLine.slice(at + 1);
}
