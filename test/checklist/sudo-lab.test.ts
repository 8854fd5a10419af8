// An LB account without root (issue 17 item 3), on the lab's LB: an
// unprivileged account that cannot capture by itself, with exactly the
// sudoers rules lbcheck prints. Checks work through `sudo -n`, sudo's own log
// proves nothing else ran through it, and a missing rule is named.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import type { VipKind } from '../lab/lab.js';
import { runCheck } from '../../src/checklist/run-check.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import type { ServersStep } from '../../src/model/report.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { checkOptions, labTarget, sudoLbAccess } from './lab-target.js';
import { allowLbcheckSudo } from './sudo-rules.js';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.teardown());
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
  assert.deepEqual(
    lab.processNames('lb').filter((n) => n === 'tcpdump'),
    [],
  );
});

const sudoLog = (): string => readFileSync(lab.sshd?.sudo?.logFile ?? '', 'utf8');
const clearSudoLog = (): void => writeFileSync(lab.sshd?.sudo?.logFile ?? '', '');

/** The commands sudo logged (run or refused), one per entry. */
function loggedCommands(): { command: string; refused: boolean }[] {
  return sudoLog()
    .split('\n')
    .filter((l) => l.includes('COMMAND='))
    .map((l) => ({
      command: l.slice(l.indexOf('COMMAND=') + 8).trim(),
      refused: !/ : PWD=/.test(l) || /not allowed|password is required/.test(l),
    }));
}

function checkAsSudoUser(kind: VipKind) {
  return runCheck({ ...labTarget(lab, kind, { view: true }), lb: sudoLbAccess(lab) }, checkOptions());
}

describe('an unprivileged LB account through sudo -n', () => {
  it('the account cannot capture on its own (so the checks below prove sudo did it)', async () => {
    const session = await SshSession.open(sudoLbAccess(lab));
    try {
      const r = await session.run(['tcpdump', '-i', 'any', '-c', '1', '-w', '/dev/null'], 5000);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /permission|not permitted/i);
      assert.match((await session.run(['id', '-u'])).stdout.trim(), /^[1-9]\d*$/);
    } finally {
      session.close();
    }
  });

  it('with the printed rules, checks of HAProxy, nginx and DNAT VIPs pass with the LB view, and sudo ran only those commands', async () => {
    await allowLbcheckSudo(lab);
    clearSudoLog();
    for (const kind of ['haproxy-http', 'nginx', 'dnat'] as const) {
      const { report } = await checkAsSudoUser(kind);
      assert.equal(report.diagnosis.culprit, 'none', `${kind}: ${report.diagnosis.summary}`);
      const s3 = report.steps.find((s): s is ServersStep => s.step === 3);
      assert.ok(s3?.lbView && !s3.lbView.error && s3.lbView.pool.length > 0, `${kind}: ${JSON.stringify(s3?.lbView)}`);
    }
    const logged = loggedCommands();
    assert.deepEqual(
      logged.filter((c) => c.refused),
      [],
    );
    const allowed = [
      /^\/usr\/bin\/timeout -s INT -k 2 \d+ tcpdump -i any -nn -U --immediate-mode -s \d+ -c \d+ -w - -- .+$/,
      /^\/usr\/bin\/socat stdio UNIX-CONNECT:\S+haproxy-http\.sock$/,
      /^\/usr\/sbin\/nginx -T -q -c \S+nginx\.conf$/,
      /^\/usr\/sbin\/iptables-save -t nat$/,
    ];
    for (const c of logged)
      assert.ok(
        allowed.some((re) => re.test(c.command)),
        `sudo ran something else: ${c.command}`,
      );
    // One capture and one view read per check: nothing else went through sudo.
    assert.equal(logged.filter((c) => c.command.includes(' tcpdump ')).length, 3);
    assert.equal(logged.length, 6, JSON.stringify(logged));
  });

  it('without the capture rule: the check stops with an error naming sudo and the missing rule', async () => {
    await allowLbcheckSudo(lab, { capture: false });
    await assert.rejects(checkAsSudoUser('haproxy-http'), (err: Error & { hint?: string }) => {
      assert.match(err.message, /sudo on .* refused the capture \(sudo: a password is required\)/);
      assert.match(err.message, /timeout -s INT -k 2 \d+ tcpdump/);
      assert.match(err.hint ?? '', /sudoers/);
      return true;
    });
  });

  it('without the view rules: the check still runs; the LB view says which sudo rule is missing', async () => {
    await allowLbcheckSudo(lab, { views: false });
    const { report } = await checkAsSudoUser('nginx');
    assert.equal(report.diagnosis.culprit, 'none');
    const s3 = report.steps.find((s): s is ServersStep => s.step === 3);
    assert.match(
      s3?.lbView?.error ?? '',
      /sudo on the LB refused `sudo -n nginx -T -q -c \S+` \(sudo: a password is required\)/,
    );
  });
});
