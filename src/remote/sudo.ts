// LB accounts without root: the few commands that need privilege (the capture
// and the LB's own view) run through `sudo -n` (never a password prompt: a
// missing rule fails at once), and only as the two fixed helpers of
// lb-helpers.ts, which check their own arguments: a sudoers rule over tcpdump
// itself can be widened by a crafted argument. Everything else lbcheck runs
// (`ip`, `cat /proc/...`, the bash /dev/tcp probe) needs no privilege and never
// goes through sudo. `lbcheck sudoers` prints the script that installs them.
import { createHash } from 'node:crypto';
import { captureHelperScript, CAPTURE_HELPER, viewHelperScript, VIEW_HELPER, type HelperGrants } from './lb-helpers.js';

/** argv run as root: through `sudo -n` for a sudo LB account, unchanged otherwise. */
export function privileged(argv: readonly string[], sudo: boolean): string[] {
  return sudo ? ['sudo', '-n', ...argv] : [...argv];
}

/**
 * sudo's own refusal in a command's stderr (no rule, a password needed, a tty required, sudo not installed), or
 * undefined. sudo's warning about an unresolvable host name is no refusal: the command still runs.
 */
export const SUDO_REFUSAL = /(?:^|: )sudo: (?!unable to resolve host)[^\n]*/m;

export function sudoRefusal(stderr: string): string | undefined {
  return SUDO_REFUSAL.exec(stderr)?.[0].replace(/^: /, '').trim();
}

/** A helper's own refusal ("lbcheck-capture: refused: …; nothing was run"), without its name, or undefined. */
export function helperRefusal(stderr: string): string | undefined {
  return /lbcheck-(?:capture|lb-view): refused: ([^\n]*)/.exec(stderr)?.[1]?.trim();
}

/** Where the install script puts the rule; the same file earlier versions told owners to write. */
export const SUDOERS_FILE = '/etc/sudoers.d/lbcheck';

export interface LbAccessInstall {
  /** The LB account lbcheck logs in as. */
  user: string;
  /** The inventory's LB names this script is for (said in its header). */
  loadBalancers: string[];
  grants: HelperGrants;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The helpers the grants need, each with its path. */
export function lbHelpers(g: HelperGrants): { path: string; script: string }[] {
  const views = g.haproxySockets.length > 0 || g.nginxConfigs.length > 0 || g.iptables;
  return [
    ...(g.captureInterfaces.length > 0
      ? [{ path: CAPTURE_HELPER, script: captureHelperScript(g.captureInterfaces) }]
      : []),
    ...(views ? [{ path: VIEW_HELPER, script: viewHelperScript(g) }] : []),
  ];
}

/**
 * The sudoers lines: the helpers by full path and sha256 (sudo refuses an edited or replaced copy), no argument
 * pattern (the helpers check their arguments; sudo's patterns match the arguments joined by spaces, which a
 * crafted argument can satisfy), env_reset so nothing from the account's environment reaches them.
 */
export function sudoersRules(user: string, helpers: { path: string; script: string }[]): string {
  const commands = helpers.map((h) => `sha256:${sha256(h.script)} ${h.path}`);
  return [
    '# lbcheck: the helpers it runs as root on this LB, and nothing else (docs/lb-access.md)',
    `Defaults:${user} !requiretty, env_reset`,
    ...(commands.length > 0 ? [`${user} ALL=(root) NOPASSWD: ${commands.join(', ')}`] : []),
    '',
  ].join('\n');
}

const heredoc = (file: string, text: string, end: string): string[] => {
  if (text.split('\n').includes(end)) throw new Error(`${end} inside the text of ${file}`);
  return [`cat >"$tmp/${file}" <<'${end}'`, text.replace(/\n$/, ''), end];
};

/**
 * The script an LB owner reviews and runs as root: checks that the directories it writes to are root's alone,
 * installs the helpers root-owned 0755 (after checking each against the digest in the rule), and replaces
 * SUDOERS_FILE with the rule once visudo accepts it. Nothing else on the LB changes.
 */
export function lbAccessInstallScript(a: LbAccessInstall): string {
  const helpers = lbHelpers(a.grants);
  const rules = sudoersRules(a.user, helpers);
  const name = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  return [
    '#!/bin/bash',
    `# lbcheck: access for the LB account ${a.user} on ${a.loadBalancers.join(', ')}, by \`lbcheck sudoers\`.`,
    '# Review it, then run it as root on each of these LBs. It installs the helpers below (root-owned, 0755)',
    `# and replaces ${SUDOERS_FILE} with a rule allowing exactly them; nothing else changes.`,
    '# docs/lb-access.md says what each piece allows and why.',
    'set -euo pipefail',
    'umask 022',
    '[ "$(id -u)" = 0 ] || { echo "run this as root" >&2; exit 1; }',
    '# A directory the account (or anyone but root) could write to would let it replace what sudo runs.',
    'for d in / /usr /usr/local /usr/local/sbin /etc /etc/sudoers.d; do',
    '  [ "$(stat -L -c %u "$d")" = 0 ] && [ $((0$(stat -L -c %a "$d") & 022)) = 0 ] ||',
    '    { echo "$d must belong to root and be writable by root only" >&2; exit 1; }',
    'done',
    'tmp=$(mktemp -d)',
    `trap 'rm -rf "$tmp"' EXIT`,
    ...helpers.flatMap((h) => [
      ...heredoc(name(h.path), h.script, 'LBCHECK_HELPER_END'),
      `echo "${sha256(h.script)}  $tmp/${name(h.path)}" | sha256sum -c --quiet -`,
      `install -o root -g root -m 0755 "$tmp/${name(h.path)}" ${h.path}`,
    ]),
    ...heredoc('sudoers', rules, 'LBCHECK_SUDOERS_END'),
    'visudo -c -q -f "$tmp/sudoers"',
    `install -o root -g root -m 0440 "$tmp/sudoers" ${SUDOERS_FILE}`,
    `grep -Eq '^[@#]includedir[[:space:]]+/etc/sudoers.d' /etc/sudoers ||`,
    `  echo "note: /etc/sudoers does not include /etc/sudoers.d; add: @includedir /etc/sudoers.d" >&2`,
    `echo "lbcheck: installed ${[...helpers.map((h) => h.path), SUDOERS_FILE].join(', ')} for ${a.user}"`,
    '',
  ].join('\n');
}
