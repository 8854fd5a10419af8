// A recorded fixture's report with its evidence files rebuilt from the
// observation, as a check would have produced them: what the page tests render.
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import { stepEvidenceDraftFor } from '../../src/evidence/check-evidence.js';
import { draftFiles } from '../../src/evidence/step-evidence.js';
import type { Evidence } from '../../src/model/evidence.js';
import type { Report, Step } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

export function fixtureEvidence(name: string): { report: Report; evidence: Evidence[] } {
  const { observation, report } = readFixture(name);
  const decided = decideCheck(observation);
  const evidence: Evidence[] = [];
  for (const step of decided.steps)
    // The page shows the SVG ladder: the PNG render is left out to keep the test quick.
    evidence.push(
      ...draftFiles(stepEvidenceDraftFor(step, observation, decided.deciding[step.step] ?? [], [], false), undefined),
    );
  const steps = report.steps.map((s) => ({
    ...s,
    evidence: evidence
      .filter((e) => e.name.startsWith(`step${s.step}-`))
      .map(({ name, sha256, bytes, mediaType }) => ({ name, sha256, bytes, mediaType })),
  })) as Step[];
  return { report: { ...report, steps }, evidence };
}
