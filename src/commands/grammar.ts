// The platform-neutral command grammar: what every chat adapter accepts after
// "/lbcheck" (Slack), "@lbcheck" (Teams) or at the console prompt. Help and
// usage lines are generated from the same table that parses.
import { InputError } from '../errors.js';
import { ZONE } from '../model/ids.js';
import { parseEndpoint } from '../target/endpoint.js';
import {
  parseDuration,
  WATCH_DEFAULT_DURATION_MS,
  WATCH_DEFAULT_INTERVAL_MS,
  watchBoundsProblem,
} from '../watch/watch.js';
import { WATCH_ID } from '../model/ids.js';

export type ChatCommand =
  | { kind: 'check'; target: string; all: boolean; members: string[]; from?: VantageChoice }
  | { kind: 'status'; id?: string }
  | { kind: 'cancel'; id: string }
  | { kind: 'history'; target?: string }
  | { kind: 'watch'; target: string; everyMs: number; forMs: number }
  | { kind: 'export'; id?: string }
  | { kind: 'help' };

/** `--from all` (every zone serving the VIP) or the zones named (`--from dc1,dc2`). */
export type VantageChoice = 'all' | string[];

interface Form {
  usage: string;
  summary: string;
}

export const FORMS: Form[] = [
  {
    usage: '<target> [--all] [--members IP:PORT[,IP:PORT...]] [--from all|ZONE[,ZONE...]]',
    summary: 'run the checklist against an inventory name or VIP ip:port',
  },
  { usage: 'status [check-id]', summary: "a check's progress, or the checks in flight" },
  { usage: 'cancel <check-id|watch-id>', summary: 'stop a queued or running check, or a watch' },
  { usage: 'history [target]', summary: 'recent checks, all or for one target' },
  { usage: 'help', summary: 'this help' },
  {
    usage: 'watch <target> [--every 30s] [--for 30m]',
    summary: 'check again at that interval (>= 10s, up to 2h); post only when the diagnosis changes',
  },
  { usage: 'export [check-id]', summary: "a link to the incident export of this thread, or of that check's thread" },
];

export const MAX_COMMAND_LENGTH = 500;
export const MAX_MEMBERS = 16;
const CHECK_ID = /^chk-[0-9a-f]{10}$/;
const TARGET_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export function helpText(prefix: string): string {
  const width = Math.max(...FORMS.map((f) => f.usage.length));
  return [
    `Usage: ${prefix} <command>`,
    ...FORMS.map((f) => `  ${prefix} ${f.usage.padEnd(width)}  ${f.summary}`),
    'Targets are names from the inventory or VIP ip:port ([ipv6]:port). A check runs the three steps (reach the LB,',
    'how the LB handles it, LB to servers), stops at the first failing step unless --all, and names the culprit.',
    '--from runs it at once from a worker in each zone named (or every zone serving the VIP) and compares them.',
  ].join('\n');
}

export class CommandSyntaxError extends InputError {
  override name = 'CommandSyntaxError';
  constructor(
    problem: string,
    readonly usage: string,
  ) {
    super(problem, `usage: ${usage}`);
  }
}

function usageOf(prefix: string, index: number): string {
  return `${prefix} ${FORMS[index]?.usage ?? ''}`;
}

function checkId(raw: string | undefined, prefix: string, form: number): string {
  if (raw === undefined) throw new CommandSyntaxError('missing check id', usageOf(prefix, form));
  if (!CHECK_ID.test(raw))
    throw new CommandSyntaxError(
      `"${raw.slice(0, 40)}" is not a check id (they look like chk-0123456789)`,
      usageOf(prefix, form),
    );
  return raw;
}

function targetToken(raw: string, prefix: string): string {
  if (TARGET_NAME.test(raw) && !/^[\d.]+$/.test(raw)) return raw;
  if (!raw.includes(':') && !/^[\d.]+$/.test(raw)) {
    throw new CommandSyntaxError(
      `target "${raw.slice(0, 40)}" is neither an inventory name (letters, digits, . _ -) nor an IP address or a ` +
        `hostname with a port`,
      usageOf(prefix, 0),
    );
  }
  try {
    parseEndpoint(raw, 'target');
  } catch (err) {
    throw new CommandSyntaxError(err instanceof Error ? err.message : String(err), usageOf(prefix, 0));
  }
  return raw;
}

export const MAX_VANTAGES = 8;

function vantageChoice(raw: string | undefined, prefix: string): VantageChoice {
  if (raw === undefined || raw.startsWith('--'))
    throw new CommandSyntaxError('--from needs "all" or zone names (--from dc1,dc2)', usageOf(prefix, 0));
  if (raw === 'all') return 'all';
  const zones = [...new Set(raw.split(',').filter((z) => z !== ''))];
  const bad = zones.find((z) => !ZONE.test(z) || z === 'all');
  if (bad !== undefined || zones.length === 0)
    throw new CommandSyntaxError(
      `"${(bad ?? raw).slice(0, 40)}" is not a zone name (letters, digits, _ and -); use --from all or --from dc1,dc2`,
      usageOf(prefix, 0),
    );
  if (zones.length > MAX_VANTAGES)
    throw new CommandSyntaxError(`at most ${MAX_VANTAGES} zones per check (got ${zones.length})`, usageOf(prefix, 0));
  return zones;
}

function parseWatch(rest: string[], prefix: string): ChatCommand {
  const usage = usageOf(prefix, 5);
  const [target, ...options] = rest;
  if (target === undefined || target.startsWith('--')) throw new CommandSyntaxError('missing target', usage);
  let everyMs = WATCH_DEFAULT_INTERVAL_MS;
  let forMs = WATCH_DEFAULT_DURATION_MS;
  for (let i = 0; i < options.length; i += 2) {
    const [option, value] = [options[i] ?? '', options[i + 1]];
    if ((option !== '--every' && option !== '--for') || value === undefined)
      throw new CommandSyntaxError(
        value === undefined && (option === '--every' || option === '--for')
          ? `${option.slice(0, 20)} needs a duration`
          : `unexpected "${option.slice(0, 40)}"`,
        usage,
      );
    try {
      if (option === '--every') everyMs = parseDuration(value, option);
      else forMs = parseDuration(value, option);
    } catch (err) {
      throw new CommandSyntaxError(err instanceof Error ? err.message : String(err), usage);
    }
  }
  const problem = watchBoundsProblem(everyMs, forMs);
  if (problem) throw new CommandSyntaxError(problem, usage);
  return { kind: 'watch', target: targetToken(target, prefix), everyMs, forMs };
}

function parseStatus(rest: string[], prefix: string): ChatCommand {
  if (rest.length > 1) throw new CommandSyntaxError('status takes at most one check id', usageOf(prefix, 1));
  return rest[0] === undefined ? { kind: 'status' } : { kind: 'status', id: checkId(rest[0], prefix, 1) };
}

function parseCancel(rest: string[], prefix: string): ChatCommand {
  if (rest.length !== 1)
    throw new CommandSyntaxError(
      rest.length === 0 ? 'missing check id' : 'cancel takes one check id',
      usageOf(prefix, 2),
    );
  if (WATCH_ID.test(rest[0] ?? '')) return { kind: 'cancel', id: rest[0] ?? '' };
  return { kind: 'cancel', id: checkId(rest[0], prefix, 2) };
}

function parseHistory(rest: string[], prefix: string): ChatCommand {
  if (rest.length > 1) throw new CommandSyntaxError('history takes at most one target', usageOf(prefix, 3));
  return rest[0] === undefined ? { kind: 'history' } : { kind: 'history', target: targetToken(rest[0], prefix) };
}

function parseExport(rest: string[], prefix: string): ChatCommand {
  if (rest.length > 1) throw new CommandSyntaxError('export takes at most one check id', usageOf(prefix, 6));
  return rest[0] === undefined ? { kind: 'export' } : { kind: 'export', id: checkId(rest[0], prefix, 6) };
}

/** The commands named by their first word; anything else is a check of the target it names. */
const KEYWORDS: Record<string, (rest: string[], prefix: string) => ChatCommand> = {
  status: parseStatus,
  cancel: parseCancel,
  watch: parseWatch,
  history: parseHistory,
  export: parseExport,
};

function members(list: string | undefined, option: string, prefix: string): string[] {
  if (list === undefined) throw new CommandSyntaxError(`${option} needs IP:PORT[,IP:PORT...]`, usageOf(prefix, 0));
  return list
    .split(',')
    .filter((x) => x !== '')
    .map((m) => {
      try {
        parseEndpoint(m, 'member');
      } catch (err) {
        throw new CommandSyntaxError(err instanceof Error ? err.message : String(err), usageOf(prefix, 0));
      }
      return m;
    });
}

function parseCheck(first: string, rest: string[], prefix: string): ChatCommand {
  if (first.startsWith('--'))
    throw new CommandSyntaxError(`missing target before ${first.slice(0, 30)}`, usageOf(prefix, 0));
  const target = targetToken(first, prefix);
  let all = false;
  let from: VantageChoice | undefined;
  const listed: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] ?? '';
    if (word === '--all') {
      all = true;
    } else if (word === '--members' || word === '--member') {
      listed.push(...members(rest[++i], word, prefix));
    } else if (word === '--from') {
      if (from !== undefined) throw new CommandSyntaxError('--from is given twice', usageOf(prefix, 0));
      from = vantageChoice(rest[++i], prefix);
    } else {
      throw new CommandSyntaxError(`unexpected "${word.slice(0, 40)}"`, usageOf(prefix, 0));
    }
  }
  if (listed.length > MAX_MEMBERS)
    throw new CommandSyntaxError(`at most ${MAX_MEMBERS} members per check (got ${listed.length})`, usageOf(prefix, 0));
  return { kind: 'check', target, all, members: listed, ...(from ? { from } : {}) };
}

/** Parses the text after the bot's name, e.g. "web-vip --all". */
export function parseCommand(text: string, prefix = '/lbcheck'): ChatCommand {
  if (text.length > MAX_COMMAND_LENGTH)
    throw new CommandSyntaxError(`the command is longer than ${MAX_COMMAND_LENGTH} characters`, usageOf(prefix, 0));
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text))
    throw new CommandSyntaxError('the command contains control characters', usageOf(prefix, 0));
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const [first, ...rest] = words;
  if (first === undefined || first === 'help' || first === '--help') {
    if (rest.length > 0 && first !== undefined)
      throw new CommandSyntaxError(`help takes no arguments`, usageOf(prefix, 4));
    return { kind: 'help' };
  }
  const keyword = Object.hasOwn(KEYWORDS, first) ? KEYWORDS[first] : undefined;
  return keyword ? keyword(rest, prefix) : parseCheck(first, rest, prefix);
}
