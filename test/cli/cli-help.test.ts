// Every --help form works and tells the truth: each command's help is printed
// the same way by `lbcheck <command> --help`, `-h` and `lbcheck help <command>`,
// ends with two examples that use only that command's options and placeholders
// (never an address), and every `lbcheck <command> --option` the README and
// docs/ show exists.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { cliOutput, commandNames, optionsOf } from '../docs/cli-docs.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const main = cliOutput(['--help']);
const commands = commandNames(main.stdout);

const helpOf = new Map(commands.map((c) => [c, cliOutput([c, '--help']).stdout]));

/**
 * `lbcheck <command> ...` invocations in code (blocks and spans) of a markdown page: a line or span that starts
 * with lbcheck (after environment assignments or npx).
 */
function invocations(page: string): { command: string; flags: string[]; text: string }[] {
  const text = readFileSync(join(repo, page), 'utf8');
  const code = [
    ...[...text.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n')),
    ...[...text.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? ''),
  ];
  return code.flatMap((line) =>
    [...line.matchAll(/^\s*(?:[A-Z_]+=\S+\s+)*(?:npx\s+)?lbcheck ([a-z][a-z-]*)([^#|]*)/g)].map((m) => ({
      command: m[1] ?? '',
      flags: [...(m[2] ?? '').matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((f) => f[0]),
      text: m[0],
    })),
  );
}

describe('lbcheck --help', () => {
  it('the main help lists every command, audit keygen and checkpoint and the worker --source included', () => {
    assert.equal(main.status, 0);
    assert.deepEqual(commands.slice(0, 6), ['run', 'audit', 'sudoers', 'start', 'serve', 'worker']);
    assert.match(main.stdout, /lbcheck audit [a-z|]*checkpoint\|keygen/);
    assert.match(main.stdout, /lbcheck worker .*--source ADDRESS/);
  });

  it('lbcheck, -h and help print the main help too', () => {
    for (const args of [[], ['-h'], ['help']]) {
      const r = cliOutput(args);
      assert.equal(r.status, 0, args.join(' '));
      assert.equal(r.stdout, main.stdout, args.join(' '));
    }
  });

  for (const command of commands)
    it(`${command}: --help, -h and help ${command} print its help, ending with two examples`, () => {
      const help = helpOf.get(command) ?? '';
      assert.match(help, new RegExp(`^Usage:(\\n)? +lbcheck ${command}`));
      for (const args of [
        [command, '-h'],
        ['help', command],
      ]) {
        const r = cliOutput(args);
        assert.equal(r.status, 0, args.join(' '));
        assert.equal(r.stdout, help, args.join(' '));
      }
      const examples = help.trimEnd().split('\nExamples:\n')[1]?.split('\n') ?? [];
      assert.equal(examples.length, 2, help);
      const options = optionsOf(help);
      for (const example of examples) {
        assert.match(example, new RegExp(`^ {2}([A-Z_]+=\\S+ )*lbcheck ${command}( |$)`));
        for (const flag of example.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])
          assert.ok(options.has(flag), `${example}: ${flag} is not an option of ${command}`);
        const addresses = (example.match(/[0-9a-f:.]{7,}/gi) ?? []).filter((w) => isIP(w) !== 0);
        assert.deepEqual(addresses, [], `${example}: use <PLACEHOLDERS>, not addresses`);
      }
    });

  it('run accepts --member repeated, --members, and comma-separated lists alike (parsing reaches the target)', () => {
    for (const members of [['--member', '<a>', '--member', '<b>'], ['--members', '<a>,<b>'], ['--member=<a>,<b>']]) {
      const r = cliOutput(['run', 'no-such-target', ...members]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /unknown target "no-such-target"|member/);
      assert.doesNotMatch(r.stderr, /unknown option|needs a value/);
    }
  });

  it('usage errors name the option: unknown, missing value, value on a flag, given twice', () => {
    const cases: [string[], RegExp][] = [
      [['worker', '--zonee', 'dc1'], /unknown option --zonee/],
      [['worker', '--zone'], /--zone needs a value \(NAME\)/],
      [['worker', '--zone', '--concurrency', '2'], /--zone needs a value/],
      [['sudoers', '--config=a', '--config=b'], /--config given more than once/],
      [['audit', 'list', '--json=yes'], /--json takes no value/],
      [['serve', 'extra'], /unexpected extra/],
      [['start', '--frobnicate'], /unknown option --frobnicate/],
      [['help', 'frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = cliOutput(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  // docs/cli.md is the help itself (generated-docs.test.ts compares it whole).
  const pages = [
    'README.md',
    ...readdirSync(join(repo, 'docs'))
      .filter((f) => f.endsWith('.md') && f !== 'cli.md')
      .map((f) => `docs/${f}`),
  ];
  it('README.md and docs/ show lbcheck commands (the check below has something to check)', () => {
    assert.ok(invocations('README.md').length >= 2);
  });
  for (const page of pages)
    it(`every lbcheck command and option shown in ${page} exists`, () => {
      const wrong = invocations(page).flatMap(({ command, flags, text }) => {
        if (command === 'help' && flags.length === 0) return [];
        const help = helpOf.get(command);
        if (help === undefined) return [`${text}: no command ${command}`];
        const options = optionsOf(help);
        return flags.filter((f) => !options.has(f)).map((f) => `${text}: ${f} is not an option of ${command}`);
      });
      assert.deepEqual(wrong, []);
    });
});
