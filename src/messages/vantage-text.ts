// The comparison a --from command ends with, as text every platform posts
// as is (it names zones the intake checked and the diagnoses' own words).
import type { VantageComparison } from '../checklist/decide/compare-vantages.js';

/** As a single check's headline words it: "No fault found" rather than NONE. */
function verdictOf(c: VantageComparison): string {
  if (c.culprit === 'none') return 'No fault found';
  return `${c.culprit.toUpperCase()}${c.finding ? ` (${c.finding})` : ''}`;
}

export function comparisonText(c: VantageComparison, without: readonly string[] = []): string {
  const zones = c.byZone.map((z) => `${z.zone}: ${z.culprit}${z.finding ? ` (${z.finding})` : ''}`).join(' · ');
  return [
    `Compared from ${c.byZone.map((z) => z.zone).join(', ')}: ${verdictOf(c)} → ${c.team}`,
    c.summary,
    `By zone: ${zones}`,
    ...(without.length > 0 ? [`No report from ${without.join(', ')}: left out of the comparison.`] : []),
  ].join('\n');
}

/** A --from group in which no zone produced a report: it ends all the same, saying why each did not. */
export function noComparisonText(zones: readonly string[], without: readonly string[]): string {
  return [`Compared from ${zones.join(', ')}: nothing to compare`, `No report from ${without.join(', ')}.`].join('\n');
}
