// The input grammar: valid forms parse; hostile and malformed input is
// refused with the exact problem, never passed on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { commandLine, quoteArg } from '../../src/remote/shell-quote.js';
import { ipv6ToString } from '../../src/capture/network-layer.js';
import { canonicalIPv6, parseEndpoint, parseHost, parseSshUrl } from '../../src/target/endpoint.js';

describe('parseEndpoint', () => {
  it('accepts IPv4, bracketed IPv6 and DNS names with a port', () => {
    assert.deepEqual(parseEndpoint('198.18.0.1:80'), { host: '198.18.0.1', port: 80, family: 4 });
    assert.deepEqual(parseEndpoint('[2001:DB8::1]:443'), { host: '2001:db8::1', port: 443, family: 6 });
    assert.deepEqual(parseEndpoint('Web-1.Example.com:8080'), { host: 'web-1.example.com', port: 8080, family: 0 });
  });

  it("IPv6 comes out in the capture decoder's spelling, however it was typed (a VIP is compared with it)", () => {
    assert.equal(parseEndpoint('[2001:DB8:0:0::1]:443').host, '2001:db8::1');
    assert.equal(parseEndpoint('[2001:db8:0000:0000:0000:0000:0000:0001]:443').host, '2001:db8::1');
    assert.equal(parseHost('::FFFF:198.18.0.1').host, '::ffff:c612:1');
    assert.equal(parseHost('2001:db8:0:0:1:0:0:1').host, '2001:db8::1:0:0:1');
  });

  it('canonicalIPv6 agrees with the decoder on every zero-run shape, from the longest spelling', () => {
    // Each of the 256 patterns of zero and non-zero groups.
    for (let mask = 0; mask < 256; mask++) {
      const bytes = Buffer.alloc(16);
      for (let g = 0; g < 8; g++) if (mask & (1 << g)) bytes.writeUInt16BE(0xa0b0 + g, g * 2);
      const full = Array.from({ length: 8 }, (_, g) =>
        bytes
          .readUInt16BE(g * 2)
          .toString(16)
          .padStart(4, '0'),
      );
      assert.equal(canonicalIPv6(full.join(':').toUpperCase()), ipv6ToString(bytes, 0), full.join(':'));
    }
  });

  const bad: [string, RegExp][] = [
    ['198.18.0.1', /has no port/],
    ['198.18.0.1:0', /out of range/],
    ['198.18.0.1:65536', /out of range/],
    ['198.18.0.1:-1', /not a number/],
    ['198.18.0.1: 80', /not a number/],
    ['198.18.0.1:80 ', /not a number/],
    ['198.18.0.256:80', /not a valid IPv4/],
    ['2001:db8::1:443', /IPv6 without brackets/],
    ['[198.18.0.1]:80', /not an IPv6/],
    ['a;rm -rf /:80', /not an IP address or a hostname/],
    ['$(reboot):80', /not an IP address or a hostname/],
    ['`id`.example.com:80', /not an IP address or a hostname/],
    ["web'.example.com:80", /not an IP address or a hostname/],
    ['web\n.example.com:80', /not an IP address or a hostname/],
    ['web\u0000.com:80', /not an IP address or a hostname/],
    ['wеb.example.com:80', /not an IP address or a hostname/], // Cyrillic "е"
    ['-oProxyCommand=x:22', /not an IP address or a hostname/],
    [':80', /empty/],
    [`${'a'.repeat(400)}:80`, /longer than/],
  ];
  for (const [input, message] of bad) {
    it(`refuses ${JSON.stringify(input.slice(0, 30))}`, () => {
      assert.throws(
        () => parseEndpoint(input),
        (err: unknown) => err instanceof InputError && message.test(err.message),
      );
    });
  }
});

describe('parseHost and parseSshUrl', () => {
  it('parses ssh://user@host[:port]', () => {
    assert.deepEqual(parseSshUrl('ssh://root@198.18.1.2'), { user: 'root', host: '198.18.1.2', port: 22 });
    assert.deepEqual(parseSshUrl('ssh://lb-admin@[2001:db8::2]:2222'), {
      user: 'lb-admin',
      host: '2001:db8::2',
      port: 2222,
    });
  });
  it('refuses URLs whose parts could reach a shell or ssh as options', () => {
    for (const raw of [
      'root@198.18.1.2',
      'ssh://-oProxyCommand=id@198.18.1.2',
      'ssh://ro ot@h',
      'ssh://root@h;id',
      'ssh://root@h:22x',
      'ssh://root@$(id)',
    ]) {
      assert.throws(() => parseSshUrl(raw), InputError, raw);
    }
  });
  it('lower-cases names and keeps IPv4 as is', () => {
    assert.equal(parseHost('LB1.Example.').host, 'lb1.example');
    assert.equal(parseHost('198.18.0.1').family, 4);
  });
});

describe('quoteArg', () => {
  it('leaves plain words alone and single-quotes everything else', () => {
    assert.equal(quoteArg('198.18.0.1'), '198.18.0.1');
    assert.equal(quoteArg('host 1'), "'host 1'");
    assert.equal(quoteArg("it's"), `'it'\\''s'`);
    assert.equal(quoteArg(''), "''");
    assert.equal(commandLine(['printf', '%s', '$(id)']), "printf %s '$(id)'");
  });
  it('refuses a NUL byte instead of truncating', () => {
    assert.throws(() => quoteArg('a\0b'), InputError);
  });
});
