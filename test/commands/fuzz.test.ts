// Property-based input hardening: random and hostile command text either
// parses to a valid command or gets a clear CommandSyntaxError; nothing
// malformed reaches the queue; every string survives shell quoting verbatim.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CommandSyntaxError, MAX_MEMBERS, parseCommand } from '../../src/commands/grammar.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import { MemoryBus } from '../../src/pipeline/memory-bus.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import type { CheckRequest } from '../../src/model/jobs.js';
import { quoteArg } from '../../src/remote/shell-quote.js';
import { parseEndpoint } from '../../src/target/endpoint.js';

const HOSTILE = [
  ';',
  '|',
  '&',
  '&&',
  '$(',
  ')',
  '`',
  "'",
  '"',
  '\\',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '*',
  '?',
  '~',
  '>',
  '<',
  '#',
  '!',
  '{',
  '}',
  '--all',
  '--members',
  '--member',
  'status',
  'cancel',
  'history',
  'help',
  ':',
  '::',
  '[',
  ']',
  '%',
  '..',
  '/',
  '-',
  '_',
  '198.18.0.1',
  '198.18.0.1:80',
  '[2001:db8::1]:443',
  '2001:db8::1',
  '0x7f.1:80',
  '999.1.1.1:80',
  ':0',
  ':65536',
  ':-1',
  'ｗｅｂ',
  'wеb',
  '\u202e',
  '\ufeff',
  'é',
  '𝕨',
  'chk-0123456789',
  'web-vip',
  'a'.repeat(70),
  '9'.repeat(12),
];
const token = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
);
const commandText = fc.oneof(
  fc.array(token, { maxLength: 8 }).map((t) => t.join(' ')),
  fc.array(token, { maxLength: 8 }).map((t) => t.join('')),
  fc.string({ unit: 'binary', maxLength: 600 }),
);

// Commands that are valid checks, with hostile tokens after them half the time: the intake property must see
// some checks reach the queue on every run (random text alone almost never forms one).
const checkText = fc
  .tuple(
    fc.constantFrom('web-vip', '198.18.0.1:80', '[2001:db8::1]:443'),
    fc.constantFrom('', ' --all', ' --members 198.18.0.1:80,198.18.0.2:8080'),
    fc.oneof(
      fc.constant(''),
      token.map((t) => ` ${t}`),
    ),
  )
  .map(([target, flags, tail]) => `${target}${flags}${tail}`);

const TARGET_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

function assertValidCheck(target: string, members: string[]): void {
  if (!TARGET_NAME.test(target) || /^[\d.]+$/.test(target)) parseEndpoint(target, 'target');
  assert.ok(members.length <= MAX_MEMBERS);
  for (const m of members) parseEndpoint(m, 'member');
  // eslint-disable-next-line no-control-regex
  for (const piece of [target, ...members]) assert.doesNotMatch(piece, /[\s\u0000-\u001f\u007f]/);
}

describe('fuzzed command grammar', () => {
  it('10,000 random and hostile commands: a valid command or a CommandSyntaxError, nothing else', () => {
    fc.assert(
      fc.property(commandText, (text) => {
        let cmd;
        try {
          cmd = parseCommand(text);
        } catch (err) {
          assert.ok(err instanceof CommandSyntaxError, `unexpected ${String(err)} for ${JSON.stringify(text)}`);
          assert.ok(err.message.length > 0 && err.message.length < 800);
          return;
        }
        if (cmd.kind === 'check') assertValidCheck(cmd.target, cmd.members);
        if ((cmd.kind === 'status' && cmd.id) || cmd.kind === 'cancel')
          assert.match(cmd.kind === 'cancel' ? cmd.id : (cmd.id ?? ''), /^chk-[0-9a-f]{10}$/);
      }),
      { numRuns: 10_000 },
    );
  });

  it('2,000 fuzzed commands through intake: whatever reaches the queue is well-formed', async () => {
    const inventory = parseInventory(
      [
        'loadBalancers:',
        `  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent, hostKey: "SHA256:${'a'.repeat(43)}" }`,
        'vips:',
        '  web-vip: { address: 198.18.201.1, port: 80, lb: edge }',
        'policy:',
        '  rules:',
        "    - { name: fuzz, users: ['console:*'], targets: ['*'], cidrs: [0.0.0.0/0, '::/0'] }",
        '  limits: { perUserPerMinute: 100000, perChannelPerMinute: 100000, inFlightPerTarget: 100000 }',
      ].join('\n'),
      'fuzz.yaml',
    );
    const queued: CheckRequest[] = [];
    class RecordingBus extends MemoryBus {
      override addCheck(r: CheckRequest): Promise<void> {
        queued.push(r);
        return super.addCheck(r);
      }
    }
    const state = new MemoryState();
    const deps = {
      state,
      bus: new RecordingBus(),
      inventory: () => inventory,
      log: createLogger('silent'),
      prefix: '/lbcheck',
    };
    await fc.assert(
      fc.asyncProperty(fc.oneof(commandText, checkText), async (text) => {
        const r = await handleCommand(
          {
            requester: { platform: 'console', id: 'fuzzer' },
            replyTo: { platform: 'console', channel: 'console' },
            text,
          },
          deps,
        );
        assert.ok(['queued', 'info', 'refused'].includes(r.kind));
        assert.ok(r.text.length > 0);
      }),
      { numRuns: 2000 },
    );
    assert.ok(queued.length > 0, 'the fuzzer never produced a valid check: the generator is too narrow');
    for (const r of queued) assertValidCheck(r.target, r.members);
  });
});

/** Reads one POSIX shell word made of plain characters and '...' / \' pieces, as quoteArg writes them. */
function unquote(word: string): string {
  let out = '';
  for (let i = 0; i < word.length;) {
    const c = word[i] ?? '';
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      assert.ok(end > i, `unterminated quote in ${word}`);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\') {
      out += word[i + 1] ?? '';
      i += 2;
    } else {
      assert.match(c, /[A-Za-z0-9_@%+=:,./-]/, `unquoted special character ${JSON.stringify(c)} in ${word}`);
      out += c;
      i++;
    }
  }
  return out;
}

describe('fuzzed shell quoting', () => {
  const noNul = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
  it('10,000 strings: the quoted word reads back as the same string', () => {
    fc.assert(
      fc.property(noNul, (s) => {
        assert.equal(unquote(quoteArg(s)), s);
      }),
      { numRuns: 10_000 },
    );
  });
  it('300 strings through a real /bin/sh come out byte for byte', () => {
    fc.assert(
      fc.property(noNul, (s) => {
        const r = spawnSync('sh', ['-c', `printf '%s' ${quoteArg(s)}`], { encoding: 'buffer' });
        assert.equal(r.status, 0);
        assert.deepEqual(r.stdout, Buffer.from(s, 'utf8'));
      }),
      { numRuns: 300 },
    );
  });
});
