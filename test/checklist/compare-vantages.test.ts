// Several vantage points compared (issue 17 item 4's decision), on reports
// recorded from the lab: a path fault seen from one zone only is localised to
// that zone's path; the same result everywhere stays what it is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVantages } from '../../src/checklist/decide/compare-vantages.js';
import { readFixture } from '../fixtures/fixture-files.js';

const report = (name: string) => readFixture(name).report;

describe('comparing vantage points', () => {
  it('fails from dc1 (SYN never reaches the LB), works from dc2: the path from dc1, named', () => {
    const c = compareVantages([
      { zone: 'dc1', report: report('dropped-before-lb') },
      { zone: 'dc2', report: report('healthy-haproxy-http') },
    ]);
    assert.equal(c.culprit, 'path-to-lb');
    assert.equal(c.finding, 'path-from-zones');
    assert.match(
      c.summary,
      /^Fails from dc1, works from dc2 \(the SYN never reaches the LB from dc1; works from dc2\)/,
    );
    assert.match(c.team, /dc1/);
    assert.deepEqual(
      c.byZone.map((z) => [z.zone, z.culprit]),
      [
        ['dc1', 'path-to-lb'],
        ['dc2', 'none'],
      ],
    );
  });

  it('the same failure from every zone is not localised: it stays the LB-side culprit', () => {
    const c = compareVantages([
      { zone: 'dc1', report: report('servers-hang') },
      { zone: 'dc2', report: report('servers-hang') },
    ]);
    assert.equal(c.culprit, 'servers');
    assert.equal(c.finding, 'server-hang');
    assert.match(c.summary, /^The same from dc1 and dc2: /);
  });

  it('the path fails from every zone: path-to-lb, without blaming one network', () => {
    const c = compareVantages([
      { zone: 'dc1', report: report('dropped-before-lb') },
      { zone: 'dc2', report: report('dropped-before-lb') },
    ]);
    assert.equal(c.culprit, 'path-to-lb');
    assert.equal(c.finding, 'dropped-before-lb');
  });

  it('an LB-side failure from one zone only: the failure stands, and the disagreement is said', () => {
    const c = compareVantages([
      { zone: 'dc1', report: report('healthy-nginx') },
      { zone: 'dc2', report: report('servers-hang') },
    ]);
    assert.equal(c.culprit, 'servers');
    assert.match(c.summary, /disagree \(works from dc1; servers \(server-hang\) from dc2\)/);
  });

  it('an inconclusive zone is set aside and named', () => {
    const c = compareVantages([
      { zone: 'dc1', report: report('no-lb-access') },
      { zone: 'dc2', report: report('dropped-before-lb') },
      { zone: 'dc3', report: report('healthy-haproxy-http') },
    ]);
    assert.equal(c.finding, 'path-from-zones');
    assert.match(c.summary, /Fails from dc2, works from dc3/);
    assert.match(c.summary, /No conclusion from dc1/);
  });

  it("a zone whose worker's own host never sent the SYN is set aside, said so; no path is blamed for it", () => {
    const c = compareVantages([
      { zone: 'dc1', report: report('blocked-here-drop') },
      { zone: 'dc2', report: report('healthy-nginx') },
    ]);
    assert.equal(c.culprit, 'none');
    assert.notEqual(c.finding, 'path-from-zones');
    assert.match(c.summary, /No conclusion from dc1: the probe never left the worker's own host there/);
    assert.deepEqual(c.byZone[0], { zone: 'dc1', culprit: 'inconclusive', finding: 'probe-blocked-here' });
  });
});
