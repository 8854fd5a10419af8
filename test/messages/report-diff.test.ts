// The diff a re-run or a watch posts, on recorded reports from the lab.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { diagnosisChanged, diffReports } from '../../src/checklist/decide/report-diff.js';
import { finalView } from '../../src/messages/views.js';
import type { Report } from '../../src/model/report.js';

// dist/test/messages -> the source tree's fixtures
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'checks');
const report = (name: string): Report => JSON.parse(readFileSync(join(root, name, 'report.json'), 'utf8')) as Report;

describe('diff between two checks of a target', () => {
  it('members whose codes changed, step verdicts and the culprit, before → after', () => {
    const d = diffReports(report('server-blocks-lb'), report('healthy-haproxy-http'));
    assert.deepEqual(d.changes, [
      'step 2 mode: WARN → PASS',
      'step 3 servers: FAIL → PASS',
      '198.18.139.11:8080 L4TOUT → L7OK',
      '198.18.139.12:8080 L4TOUT → L7OK',
      '198.18.139.13:8080 L4TOUT → L7OK',
      'culprit lb-to-servers → none',
    ]);
    assert.equal(d.culpritChanged, true);
    assert.equal(d.since, report('server-blocks-lb').id);
  });

  it('a check that stopped early lists no member lines; the same result says the culprit is unchanged', () => {
    const d = diffReports(report('dropped-before-lb'), report('servers-hang'));
    assert.deepEqual(d.changes, [
      'step 1 reach: FAIL → PASS',
      'step 2 mode: SKIPPED → WARN',
      'step 3 servers: SKIPPED → FAIL',
      'culprit path-to-lb → servers',
    ]);
    const same = diffReports(report('servers-hang'), report('servers-hang'));
    assert.deepEqual(same.changes, ['culprit unchanged: servers']);
    assert.equal(diagnosisChanged(report('servers-hang'), report('servers-hang')), false);
    assert.equal(diagnosisChanged(report('servers-hang'), report('server-blocks-lb')), true);
  });

  it('the diagnosis view carries the changes; no fault reads "No fault found"', () => {
    const after = report('healthy-haproxy-http');
    const view = finalView(after, diffReports(report('servers-hang'), after));
    assert.equal(view.headline, 'No fault found');
    const fact = view.facts.find((f) => f.label.startsWith('Since chk-'));
    assert.match(fact?.value ?? '', /198\.18\.139\.11:8080 L7TOUT → L7OK\n/);
    assert.match(finalView(report('servers-hang')).headline, /^Diagnosis: SERVERS$/);
  });
});
