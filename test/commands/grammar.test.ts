// The chat command grammar: every form parses; wrong input gets the exact
// problem and the usage line of the form it was meant as.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandSyntaxError, helpText, parseCommand } from '../../src/commands/grammar.js';

describe('parseCommand', () => {
  it('parses every form', () => {
    assert.deepEqual(parseCommand('web-vip'), { kind: 'check', target: 'web-vip', all: false, members: [] });
    assert.deepEqual(parseCommand('  198.18.0.1:443 --all --members 198.18.3.1:80,198.18.3.2:80 '), {
      kind: 'check',
      target: '198.18.0.1:443',
      all: true,
      members: ['198.18.3.1:80', '198.18.3.2:80'],
    });
    assert.deepEqual(parseCommand('[2001:db8::1]:80 --member [2001:db8::2]:8080'), {
      kind: 'check',
      target: '[2001:db8::1]:80',
      all: false,
      members: ['[2001:db8::2]:8080'],
    });
    assert.deepEqual(parseCommand('status'), { kind: 'status' });
    assert.deepEqual(parseCommand('status chk-0123456789'), { kind: 'status', id: 'chk-0123456789' });
    assert.deepEqual(parseCommand('cancel chk-abcdef0123'), { kind: 'cancel', id: 'chk-abcdef0123' });
    assert.deepEqual(parseCommand('history'), { kind: 'history' });
    assert.deepEqual(parseCommand('history web-vip'), { kind: 'history', target: 'web-vip' });
    assert.deepEqual(parseCommand('export'), { kind: 'export' });
    assert.deepEqual(parseCommand('export chk-0123456789'), { kind: 'export', id: 'chk-0123456789' });
    assert.deepEqual(parseCommand(''), { kind: 'help' });
    assert.deepEqual(parseCommand('help'), { kind: 'help' });
  });

  const bad: [string, RegExp, RegExp][] = [
    ['cancel', /missing check id/, /cancel <check-id\|watch-id>/],
    ['cancel 42', /not a check id/, /cancel <check-id\|watch-id>/],
    ['status a b', /at most one check id/, /status \[check-id\]/],
    ['export chk-0123456789 chk-abcdef0123', /export takes at most one check id/, /export \[check-id\]/],
    ['export web-vip', /"web-vip" is not a check id/, /export \[check-id\]/],
    ['--all', /missing target before --all/, /<target> \[--all\]/],
    ['web-vip --members', /needs IP:PORT/, /<target>/],
    ['web-vip extra', /unexpected "extra"/, /<target>/],
    ['web;reboot', /neither an inventory name .* nor an IP address/, /<target>/],
    ['$(id):80', /not an IP address or a hostname/, /<target>/],
    ['10.0.0.1', /has no port/, /<target>/],
    ['web-vip --members 198.18.0.1:0', /out of range/, /<target>/],
    ['web-vip\u0007', /control characters/, /<target>/],
    ['x'.repeat(501), /longer than 500/, /<target>/],
    [
      `web-vip --members ${Array.from({ length: 17 }, (_, i) => `198.18.3.${i + 1}:80`).join(',')}`,
      /at most 16 members/,
      /<target>/,
    ],
  ];
  for (const [text, problem, usage] of bad) {
    it(`refuses ${JSON.stringify(text.slice(0, 40))}`, () => {
      assert.throws(
        () => parseCommand(text, '/lbcheck'),
        (err: unknown) => {
          assert.ok(err instanceof CommandSyntaxError);
          assert.match(err.message, problem);
          assert.match(err.message, usage);
          assert.match(err.usage, /^\/lbcheck /);
          return true;
        },
      );
    });
  }

  it('help is generated from the grammar and names every command', () => {
    const help = helpText('@lbcheck');
    for (const word of ['status', 'cancel', 'history', 'help', '--all', '--members'])
      assert.ok(help.includes(word), word);
    assert.match(help, /^ {2}@lbcheck export \[check-id\] +a link to the incident export of this thread/m);
    assert.match(help, /^Usage: @lbcheck <command>/);
  });
});
