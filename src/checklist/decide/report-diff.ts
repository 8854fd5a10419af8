// What changed between two checks of the same target (a re-run, a watch):
// per step verdict changes, members whose codes changed, and the culprit
// before and after. Pure: the poster hands it the previous report.
import type { MemberResult, Report, Step } from '../../model/report.js';

export interface ReportDiff {
  /** The check compared against. */
  since: string;
  /** One line per change, e.g. "step 1 reach: FAIL → PASS", "198.18.0.12:8080 L4TOUT → L7OK". */
  changes: string[];
  culpritChanged: boolean;
}

const STEP_NAMES = { 1: 'reach', 2: 'mode', 3: 'servers' } as const;

function verdictOf(steps: readonly Step[], n: 1 | 2 | 3): string {
  return steps.find((s) => s.step === n)?.verdict.toUpperCase() ?? 'NOT RUN';
}

/** A member's state in one word: its HAProxy-style code, else the LB's probe outcome. */
function memberState(m: MemberResult): string {
  return m.code ?? m.fromLb.code ?? m.fromLb.outcome;
}

function membersOf(r: Report): Map<string, string> {
  const servers = r.steps.find((s) => s.name === 'servers');
  return new Map(servers?.name === 'servers' ? servers.members.map((m) => [m.address, memberState(m)]) : []);
}

function memberChanges(before: Report, after: Report): string[] {
  const was = membersOf(before);
  const now = membersOf(after);
  // A check that stopped before step 3 says nothing about members: no "gone" lines for it.
  if (was.size === 0 || now.size === 0) return [];
  const lines: string[] = [];
  for (const [address, state] of now) {
    const old = was.get(address);
    if (old === undefined) lines.push(`${address} new: ${state}`);
    else if (old !== state) lines.push(`${address} ${old} → ${state}`);
  }
  for (const address of was.keys()) if (!now.has(address)) lines.push(`${address} no longer probed`);
  return lines;
}

export function diffReports(before: Report, after: Report): ReportDiff {
  const changes: string[] = [];
  for (const n of [1, 2, 3] as const) {
    const a = verdictOf(before.steps, n);
    const b = verdictOf(after.steps, n);
    if (a !== b) changes.push(`step ${n} ${STEP_NAMES[n]}: ${a} → ${b}`);
  }
  changes.push(...memberChanges(before, after));
  const culpritChanged = before.diagnosis.culprit !== after.diagnosis.culprit;
  changes.push(
    culpritChanged
      ? `culprit ${before.diagnosis.culprit} → ${after.diagnosis.culprit}`
      : `culprit unchanged: ${after.diagnosis.culprit}`,
  );
  return { since: before.id, changes, culpritChanged };
}

/** The diagnosis (culprit and finding) differs: what a watch reports. */
export function diagnosisChanged(before: Report, after: Report): boolean {
  return before.diagnosis.culprit !== after.diagnosis.culprit || before.diagnosis.finding !== after.diagnosis.finding;
}
