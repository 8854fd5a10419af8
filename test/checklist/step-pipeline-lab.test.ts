// run-check hands steps to onStep in order, each with its rendered ladder PNG,
// while the next step's I/O already runs (the PNG renders on a thread): a
// slow onStep for step 1 no longer holds the probes of the steps after it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Evidence } from '../../src/model/evidence.js';
import { runCheck } from '../../src/checklist/observe/run-check.js';
import type { Step } from '../../src/model/report.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { startLab, type Lab } from '../lab/lab.js';
import { checkOptions, labTarget } from './lab-target.js';

let lab: Lab;
let session: SshSession;

before(async () => {
  lab = await startLab();
  const lb = labTarget(lab, 'haproxy-http').lb;
  assert.ok(lb);
  session = await SshSession.open(lb);
});
after(() => {
  session.close();
  lab.teardown();
});

const refsOf = (ev: { name: string; sha256: string }[]): string[] => ev.map((e) => `${e.name} ${e.sha256}`);

/** Step 3's probe of a member from the LB: a direct-tcpip channel, or the remote command standing in for one. */
const isMemberProbe = (command: string): boolean =>
  command.startsWith('# direct-tcpip channel to') || command.includes('lbcheck:connected');

/**
 * Resolves once the session has run step 3's first member probe since command number `from` (at once when it
 * already has: step 1's picture may take longer to render than steps 2 and 3 take to run), or rejects at the bound.
 */
async function memberProbeSince(from: number, boundMs: number): Promise<void> {
  const end = Date.now() + boundMs;
  while (!session.commands.slice(from).some(isMemberProbe)) {
    if (Date.now() > end) throw new Error(`step 3 probed no member within ${boundMs} ms of step 1's onStep`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('steps pipelined through onStep', () => {
  it('onStep sees steps 1, 2, 3 in order, each with the PNG and the very files the report lists', async () => {
    const seen: { step: Step; evidence: Evidence[] }[] = [];
    const { report, evidence } = await runCheck(labTarget(lab, 'haproxy-http'), checkOptions(), {
      session: () => Promise.resolve(session),
      onStep: (step, ev) => {
        seen.push({ step, evidence: ev });
      },
    });
    assert.deepEqual(
      seen.map((s) => s.step.step),
      [1, 2, 3],
    );
    for (const s of seen) {
      const listed = report.steps.find((r) => r.step === s.step.step)?.evidence ?? [];
      assert.deepEqual(refsOf(s.step.evidence), refsOf(listed), `step ${s.step.step}: refs as in the report`);
      assert.deepEqual(refsOf(s.evidence), refsOf(listed), `step ${s.step.step}: files as in the report`);
    }
    for (const n of [1, 2]) {
      const png = evidence.find((e) => e.name === `step${n}-ladder.png`);
      assert.ok(png, `step ${n} has its ladder PNG`);
      assert.deepEqual([...png.data.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
    }
    assert.equal(report.diagnosis.culprit, 'none');
  });

  it("step 3's remote commands run while step 1 is still being handed to onStep", async () => {
    const order: string[] = [];
    const from = session.commands.length;
    const { report } = await runCheck(labTarget(lab, 'haproxy-http'), checkOptions(), {
      session: () => Promise.resolve(session),
      onStep: async (step) => {
        if (step.step === 1) {
          // Before pipelining this waited forever: step 2 did not start until step 1's onStep returned.
          await memberProbeSince(from, 20_000);
          order.push('step 1 handed over after step 3 probed a member');
        } else order.push(`step ${step.step}`);
      },
    });
    assert.deepEqual(order, ['step 1 handed over after step 3 probed a member', 'step 2', 'step 3']);
    assert.equal(report.diagnosis.culprit, 'none');
  });

  it('ladderPng false: no PNG files, the same verdicts', async () => {
    const { report, evidence } = await runCheck(labTarget(lab, 'haproxy-http'), checkOptions({ ladderPng: false }), {
      session: () => Promise.resolve(session),
    });
    assert.deepEqual(
      evidence.filter((e) => e.name.endsWith('.png')).map((e) => e.name),
      [],
    );
    assert.ok(evidence.some((e) => e.name === 'step2-ladder.svg'));
    assert.equal(report.diagnosis.culprit, 'none');
  });

  it("an onStep that fails fails the check with its error, after the steps' I/O is cleaned up", async () => {
    await assert.rejects(
      runCheck(labTarget(lab, 'haproxy-http'), checkOptions(), {
        session: () => Promise.resolve(session),
        onStep: (step) => {
          if (step.step === 1) throw new Error('chat is down');
        },
      }),
      /chat is down/,
    );
    assert.deepEqual(
      lab.processNames('lb').filter((n) => n === 'tcpdump'),
      [],
    );
  });
});
