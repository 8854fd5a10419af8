// The comparison a --from command ends with, as text every platform posts
// as is (it names zones the intake checked and the diagnoses' own words).
import type { VantageComparison } from '../checklist/compare-vantages.js';

export function comparisonText(c: VantageComparison, without: readonly string[] = []): string {
  const zones = c.byZone.map((z) => `${z.zone}: ${z.culprit}${z.finding ? ` (${z.finding})` : ''}`).join(' · ');
  return [
    `Compared from ${c.byZone.map((z) => z.zone).join(', ')}: ${c.culprit.toUpperCase()}${c.finding ? ` (${c.finding})` : ''} → ${c.team}`,
    c.summary,
    `By zone: ${zones}`,
    ...(without.length > 0 ? [`No report from ${without.join(', ')}: left out of the comparison.`] : []),
  ].join('\n');
}
