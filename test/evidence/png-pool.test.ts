// Ladder PNGs rendered on the render thread (src/evidence/png-pool.ts): the
// same bytes as on the main thread, the same files in the same order as
// stepEvidence, and a process that rendered one still ends by itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderDraft, stepEvidence, stepEvidenceDraft } from '../../src/evidence/step-evidence.js';
import type { StepEvidenceInput } from '../../src/evidence/step-evidence.js';
import { buildLadder } from '../../src/evidence/ladder-model.js';
import { svgToPng } from '../../src/evidence/ladder-png.js';
import { renderLadderSvg } from '../../src/evidence/ladder-svg.js';
import { renderPngOffThread } from '../../src/evidence/png-pool.js';
import { lbInterfaces, probeFixture } from './fixture-flows.js';

const FIXTURES = ['dnat-healthy', 'dnat-server-silent', 'haproxy-503'];

function inputFor(name: string, ladderPng = true): StepEvidenceInput {
  const fx = probeFixture(name);
  return {
    step: 2,
    title: `Step 2: ${name}`,
    pcap: { linkType: fx.header.linkType, snaplen: fx.header.snaplen, packets: fx.packets, label: 'lb' },
    deciding: fx.packets.slice(0, 1),
    notes: ['a note'],
    commands: ['tcpdump -i any'],
    timings: { stepMs: 12 },
    interfaces: lbInterfaces(),
    ladderPng,
  };
}

const summary = (ev: { name: string; sha256: string; mediaType: string }[]): string[] =>
  ev.map((e) => `${e.name} ${e.mediaType} ${e.sha256}`);

describe('ladder PNGs on the render thread', () => {
  for (const name of FIXTURES) {
    it(`${name}: the thread's PNG is byte-identical to the main thread's for the same SVG`, async () => {
      const fx = probeFixture(name);
      const svg = renderLadderSvg(buildLadder({ title: name, packets: fx.packets, deciding: fx.packets.slice(0, 1) }));
      const here = svgToPng(svg);
      const there = await renderPngOffThread(svg);
      assert.ok('png' in here && 'png' in there, 'both rendered');
      assert.ok(Buffer.isBuffer(there.png), 'handed back as a Buffer');
      assert.equal(Buffer.compare(there.png, here.png), 0);
    });
  }

  it('a step drafted then rendered off-thread has the same files, in the same order, as stepEvidence', async () => {
    for (const name of FIXTURES) {
      const rendered = await renderDraft(stepEvidenceDraft(inputFor(name)), renderPngOffThread);
      assert.deepEqual(summary(rendered), summary(stepEvidence(inputFor(name))));
      assert.ok(rendered.some((e) => e.name === 'step2-ladder.png'));
    }
  });

  it('ladderPng false: no PNG and no render asked for', async () => {
    const asked: string[] = [];
    const rendered = await renderDraft(stepEvidenceDraft(inputFor('haproxy-503', false)), (svg) => {
      asked.push(svg);
      return Promise.resolve({ unavailable: 'should not be called' });
    });
    assert.deepEqual(asked, []);
    assert.ok(!rendered.some((e) => e.name.endsWith('.png')));
    assert.deepEqual(summary(rendered), summary(stepEvidence(inputFor('haproxy-503', false))));
  });

  it('a PNG that cannot be drawn is said in the decode, as on the main thread', async () => {
    const rendered = await renderDraft(stepEvidenceDraft(inputFor('dnat-healthy')), () =>
      Promise.resolve({ unavailable: 'PNG not rendered: test reason' }),
    );
    assert.ok(!rendered.some((e) => e.name.endsWith('.png')));
    const decode = rendered.find((e) => e.name === 'step2-decode.txt');
    assert.match(decode?.data.toString('utf8') ?? '', /PNG not rendered: test reason/);
  });

  it('a process that rendered on the thread ends by itself: the idle thread holds nothing open', async () => {
    const pool = fileURLToPath(new URL('../../src/evidence/png-pool.js', import.meta.url));
    const script =
      `const { renderPngOffThread } = await import(${JSON.stringify(pool)});` +
      `const r = await renderPngOffThread('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>');` +
      `process.stdout.write('png' in r ? 'rendered' : r.unavailable);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Not a speed bound: a process the thread kept alive would never exit, so it is killed here and the test fails.
    const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.on('exit', (c, s) => r([c, s])),
    );
    clearTimeout(bound);
    assert.equal(signal, null, 'the process had to be killed: the render thread kept it alive');
    assert.equal(code, 0);
    assert.equal(out, 'rendered');
  });
});
