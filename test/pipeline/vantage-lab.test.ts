// --from through the whole pipeline on the lab (issue 17 item 4): one
// command, two zones' workers (dc1 probing from the lab client's second
// address, dc2 from its first), real Redis and BullMQ, the console as the
// platform. With dc1 behind a router drop, the thread shows both zones'
// steps, each labelled, and one comparison naming dc1's path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../src/model/report.js';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { addVantage, dropFromVantage } from '../lab/vantage.js';
import { startHarness, type Harness } from './harness.js';

let lab: Lab;
let h: Harness;
let dc1: string;

useLab({ serverCount: 2, heal: true }, async (started, own) => {
  lab = started;
  dc1 = await addVantage(lab);
  const v = lab.vips.nginx;
  h = await startHarness(
    lab,
    {},
    {
      extraVips: [
        '  web-multi:',
        `    address: ${v.address}`,
        `    port: ${v.port}`,
        '    lb: lab-lb',
        `    members: [${lab.servers.map((s) => `${s.address}:${s.port}`).join(', ')}]`,
        '    zone: dc1',
        '    zones: [dc2]',
      ],
    },
  );
  own(h);
  h.startWorker({ sourceAddress: dc1 }, 'dc1');
  h.startWorker({ sourceAddress: lab.addr.client }, 'dc2');
});

/** The ack names each zone's check: "from dc1 (chk-…), dc2 (chk-…)". */
function idsOf(ack: string): { dc1: string; dc2: string } {
  const m = /from dc1 \((chk-[0-9a-f]{10})\), dc2 \((chk-[0-9a-f]{10})\)/.exec(ack);
  assert.ok(m, `not a --from ack: ${ack}`);
  return { dc1: m[1] ?? '', dc2: m[2] ?? '' };
}

const linesOf = (id: string, zone: string): string[] =>
  h
    .output()
    .split('\n')
    .filter((l) => l.startsWith(`[${id} ${zone}] `));

const reportOf = (id: string): Report =>
  JSON.parse(readFileSync(join(h.config.evidenceDir, id, 'report.json'), 'utf8')) as Report;

describe('--from all through the queue, two zones', () => {
  it('dc1 behind a path fault: both zones steps in the thread, then one comparison naming dc1', async () => {
    await dropFromVantage(lab, dc1, 'nginx');
    const ack = await h.send('/lbcheck web-multi --from all');
    assert.match(ack, /^Queued 2 checks of web-multi at once/);
    const ids = idsOf(ack);
    const compared = await h.waitFor(/\[grp-[0-9a-f]{10}\] ⇄ Compared from dc1, dc2: [^\n]*/, 60_000);
    assert.match(compared, /PATH-TO-LB \(path-from-zones\) → network \/ firewall team for dc1's path to the LB$/);
    assert.equal(h.count(/⇄ Compared from/), 1);
    assert.match(
      h.output(),
      /\n\[grp-[0-9a-f]{10}\] {3}Fails from dc1, works from dc2 \(the SYN never reaches the LB from dc1; works from dc2\)/,
    );
    // dc1: step 1 fails and the check stops there; dc2: every step passes.
    const one = linesOf(ids.dc1, 'dc1');
    const two = linesOf(ids.dc2, 'dc2');
    assert.equal(one.filter((l) => /✘ Step 1/.test(l)).length, 1, one.join('\n'));
    assert.ok(
      one.some((l) => /Diagnosis: PATH-TO-LB/.test(l)),
      one.join('\n'),
    );
    assert.deepEqual(
      two.filter((l) => /Step \d/.test(l) && /[✔✘⚠?–] Step/.test(l)).map((l) => /. Step (\d)/.exec(l)?.[1]),
      ['1', '2', '3'],
    );
    assert.ok(
      two.some((l) => /No fault found/.test(l)),
      two.join('\n'),
    );
    // The comparison comes after both zones' diagnoses.
    const out = h.output();
    assert.ok(out.indexOf('⇄ Compared') > out.indexOf(`[${ids.dc1} dc1] Diagnosis`));
    assert.ok(out.indexOf('⇄ Compared') > out.indexOf(`[${ids.dc2} dc2] No fault found`));
    // Each zone probed from its own address.
    const from = (r: Report): unknown => (r.steps[0] as { probe?: { from?: string } }).probe?.from;
    assert.equal(from(reportOf(ids.dc1)), dc1);
    assert.equal(from(reportOf(ids.dc2)), lab.addr.client);
    const audited = h.audit.records().filter((r) => r.type === 'post' && r.kind === 'comparison');
    assert.equal(audited.length, 1);
  });

  it('a healthy VIP from both zones: the same from dc1 and dc2', async () => {
    const ids = idsOf(await h.send('/lbcheck web-multi --from dc1,dc2'));
    const compared = await h.waitFor(/\[grp-[0-9a-f]{10}\] ⇄ Compared from dc1, dc2: No fault found[^\n]*/, 60_000);
    assert.ok(compared);
    assert.match(h.output(), /\n\[grp-[0-9a-f]{10}\] {3}The same from dc1 and dc2: /);
    assert.ok(linesOf(ids.dc1, 'dc1').some((l) => /No fault found/.test(l)));
    assert.ok(linesOf(ids.dc2, 'dc2').some((l) => /No fault found/.test(l)));
  });
});
