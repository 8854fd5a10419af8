// An untrusted issuer is said plainly, as a warning naming the issuer and the
// store it was checked against; the expiry and name rules stay, and come
// first. Recorded lab checks with one fact changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ModeStep } from '../../src/model/report.js';
import type { TlsInfo } from '../../src/probe/tls-upgrade.js';
import { readFixture } from '../fixtures/fixture-files.js';

const DAY_MS = 86_400_000;

function modeOf(obs: CheckObservation): ModeStep {
  const s = decideCheck(obs).steps.find((x) => x.step === 2);
  assert.ok(s && s.name === 'mode');
  return s;
}

/** The observation with its TLS facts changed by `edit` (and its clock moved by `days`). */
function withTls(name: string, edit: (t: TlsInfo) => TlsInfo, days = 0): CheckObservation {
  const obs = readFixture(name).observation;
  assert.ok(obs.mode?.tls);
  return {
    ...obs,
    observedAt: new Date(Date.parse(obs.observedAt) + days * DAY_MS).toISOString(),
    mode: { ...obs.mode, tls: edit(obs.mode.tls) },
  };
}

describe('TLS trust, decided', () => {
  it('the lab CA not given: a warning that names the issuer and the store, no fault on the path', () => {
    const obs = readFixture('tls-untrusted').observation;
    const mode = modeOf(obs);
    assert.equal(mode.verdict, 'warn');
    assert.equal(mode.finding, 'tls-untrusted');
    assert.match(
      mode.summary,
      /Untrusted issuer: the certificate for web\.lab\.test is issued by "lbcheck lab root CA"/,
    );
    assert.match(mode.summary, /which the system's CA store \(.*\) does not trust/);
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'none');
    assert.equal(d.finding, 'tls-untrusted');
    assert.match(d.summary, /^No fault on the path, with one warning: /);
  });

  it('the same facts with the chain trusted: a pass (and so the healthy VIP, checked with its CA)', () => {
    const trusted = withTls('tls-untrusted', (t) => ({ ...t, trust: { authorized: true, store: 'the CA bundle x' } }));
    assert.equal(modeOf(trusted).verdict, 'pass');
    assert.equal(modeOf(readFixture('healthy-tls').observation).verdict, 'pass');
  });

  it('recorded before trust was kept: nothing said about it', () => {
    const old = withTls('tls-untrusted', ({ trust: _trust, ...t }) => t);
    assert.equal(modeOf(old).verdict, 'pass');
  });

  it('untrusted and expiring soon: both said, under the untrusted finding', () => {
    const obs = withTls('tls-untrusted', (t) => t, 80);
    const mode = modeOf(obs);
    assert.equal(mode.finding, 'tls-untrusted');
    assert.match(mode.summary, /Untrusted issuer: .* expires on .*, in \d+ days?/);
  });

  it('untrusted and expired, or issued for another name: the failing rule speaks, as before', () => {
    assert.equal(modeOf(withTls('tls-untrusted', (t) => t, 100)).finding, 'tls-expired');
    const other = withTls('tls-untrusted', (t) => ({ ...t, names: ['other.lab.test'] }));
    assert.equal(modeOf(other).finding, 'tls-name-mismatch');
    assert.equal(modeOf(other).verdict, 'fail');
  });

  it("OpenSSL's date reasons are the expiry rules' to say: a trusted issuer is not called untrusted for them", () => {
    for (const error of ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']) {
      const obs = withTls('tls-untrusted', (t) => ({ ...t, trust: { authorized: false, error, store: 's' } }));
      assert.notEqual(modeOf(obs).finding, 'tls-untrusted', error);
    }
  });

  it('self-signed: said in words, with the code', () => {
    const mode = modeOf(readFixture('tls-self-signed').observation);
    assert.equal(mode.finding, 'tls-untrusted');
    assert.match(mode.summary, /the certificate is self-signed; DEPTH_ZERO_SELF_SIGNED_CERT/);
  });
});
