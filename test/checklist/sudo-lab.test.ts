// An LB account without root, on the lab's LB: an unprivileged account that
// cannot capture by itself, given exactly what `lbcheck sudoers`' install
// script installs (two helpers and the rule naming them). Checks work through
// `sudo -n`, sudo's own log proves nothing else ran through it, and a missing
// helper or rule is named, with the whole command sudo refused.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import type { VipKind } from '../lab/lab.js';
import { runCheck } from '../../src/checklist/observe/run-check.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import type { ServersStep } from '../../src/model/report.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { checkOptions, labTarget, labView, sudoLbAccess } from './lab-target.js';
import { allowLbcheckSudo } from './sudo-rules.js';
import { haproxyLevelSocket } from '../lab/lb-configs.js';

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

  it('with the installed helpers, checks of HAProxy, nginx and DNAT VIPs pass with the LB view, and sudo ran only the helpers', async () => {
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
      /^\/usr\/local\/sbin\/lbcheck-capture v2 any \d+ \d+ 262 (flow [\d.]+ 80 \d+ 22|member-syns [\d.]+ \d+)( [\d.]+ \d+)*$/,
      /^\/usr\/local\/sbin\/lbcheck-lb-view v1 haproxy \S+haproxy-http\.sock$/,
      /^\/usr\/local\/sbin\/lbcheck-lb-view v1 nginx \S+nginx\.conf$/,
      /^\/usr\/local\/sbin\/lbcheck-lb-view v1 iptables$/,
    ];
    for (const c of logged)
      assert.ok(
        allowed.some((re) => re.test(c.command)),
        `sudo ran something else: ${c.command}`,
      );
    // One capture and one view read per check: nothing else went through sudo.
    assert.equal(logged.filter((c) => c.command.includes('lbcheck-capture')).length, 3);
    assert.equal(logged.length, 6, JSON.stringify(logged));
  });

  it('HAProxy on a stats socket at level user: servers matched by name, and step 3 says what that level hides', async () => {
    await allowLbcheckSudo(lab);
    const spec = labView(lab, 'haproxy-http');
    if (spec.kind !== 'haproxy') throw new Error('the lab HAProxy view is not haproxy');
    const target = {
      ...labTarget(lab, 'haproxy-http'),
      lbView: { ...spec, socket: haproxyLevelSocket(spec.socket, 'user') },
    };
    const { report } = await runCheck({ ...target, lb: sudoLbAccess(lab) }, checkOptions());
    assert.equal(report.diagnosis.culprit, 'none', report.diagnosis.summary);
    const s3 = report.steps.find((s): s is ServersStep => s.step === 3);
    assert.equal(s3?.lbView?.error, undefined);
    assert.deepEqual(
      s3?.lbView?.pool.map((m) => [m.address, m.state]),
      lab.servers.map((s) => [`${s.address}:${s.port}`, 'UP']),
    );
    assert.ok(s3?.lbView?.pool.every((m) => /^s\d+$|^\S+$/.test(m.name ?? '')));
    assert.match(
      s3?.summary ?? '',
      /a stats socket at level user hides them\); `show servers state` lists them, so its servers were matched by name/,
    );
    assert.match(
      s3?.summary ?? '',
      /HAProxy marks \S+ UP \(L7OK\); our probe from the LB gets HTTP 200 too: they agree/,
    );
    assert.doesNotMatch(s3?.summary ?? '', /pool lists nothing/);
  });

  it('the capture helper not granted: sudo refuses, and the error gives the whole command, copyable', async () => {
    await allowLbcheckSudo(lab, { capture: false });
    await assert.rejects(checkAsSudoUser('haproxy-http'), (err: Error & { hint?: string }) => {
      const m = /refused the capture \(sudo: a password is required\); the command was: `([^`]*)`/.exec(err.message);
      assert.ok(m?.[1], err.message);
      // Whole: every argument up to the last member, no quote left open (the filter is no longer cut at ` & `).
      const vip = lab.vips['haproxy-http'];
      const members = lab.servers.map((s) => `${s.address} ${s.port}`).join(' ');
      assert.match(
        m[1].replace(/ flow \S+ 80 \d+ /, ' flow VIP 80 PORT '),
        new RegExp(
          `^sudo -n /usr/local/sbin/lbcheck-capture v2 any \\d+ 10000 262 flow VIP 80 PORT 22 ${members.replaceAll('.', '\\.')}$`,
        ),
      );
      assert.ok(m[1].includes(` flow ${vip.address} 80 `));
      assert.doesNotMatch(m[1], /'/);
      assert.match(err.hint ?? '', /install script `lbcheck sudoers` prints/);
      return true;
    });
  });

  it('the view helper not granted: the check still runs; the LB view says sudo refused it and what to do', async () => {
    await allowLbcheckSudo(lab, { views: false });
    const { report } = await checkAsSudoUser('nginx');
    assert.equal(report.diagnosis.culprit, 'none');
    const s3 = report.steps.find((s): s is ServersStep => s.step === 3);
    assert.match(
      s3?.lbView?.error ?? '',
      /sudo on the LB refused `sudo -n \/usr\/local\/sbin\/lbcheck-lb-view v1 nginx \S+nginx\.conf` \(sudo: a password is required\): sudo refuses the view helper when .* run as root on the LB the install script/,
    );
  });
});
