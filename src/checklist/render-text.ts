// Human output: one block per step, the verdict line first, then the why and
// the key facts, then the diagnosis. Used by the CLI and the console adapter.
import type { Evidence } from './evidence.js';
import type { Report, Step, Verdict } from '../model/report.js';

export const VERDICT_SYMBOL: Record<Verdict, string> = {
  pass: '✔',
  fail: '✘',
  warn: '⚠',
  skipped: '–',
  inconclusive: '?',
};

const STEP_TITLE = {
  reach: 'Does the connection reach the LB?',
  mode: 'How does the LB handle it?',
  servers: 'Can the LB reach the servers?',
} as const;

function facts(step: Step): string[] {
  switch (step.name) {
    case 'reach':
      return [
        `client ${step.outcome ?? 'n/a'}${step.errno ? ` (${step.errno})` : ''}${step.refusedBy ? ` by ${step.refusedBy}` : ''} · LB saw SYN: ${step.lbSawSyn === null ? 'unknown' : step.lbSawSyn ? 'yes' : 'no'} · answered by: ${step.answeredBy ?? 'unknown'}${step.answerFrom ? ` (${step.answerFrom})` : ''}`,
      ];
    case 'mode':
      if (step.verdict === 'skipped') return [];
      return [
        `mode ${step.mode}${step.proxyKind ? ` (${step.proxyKind} proxy)` : ''} · GET / → ${step.behaviour}${step.httpStatus !== undefined ? ` ${step.httpStatus}` : ''}${step.fingerprint ? ` · ${step.fingerprint}` : ''}`,
        ...(step.tls
          ? [
              `TLS ${step.tls.protocol} · certificate ${step.tls.subject} (issuer ${step.tls.issuer}, valid to ${step.tls.validTo}) · SNI ${step.tls.sni}`,
            ]
          : []),
      ];
    case 'servers':
      return step.members.map(
        (m) =>
          `${m.address}${m.source === 'discovered' ? ' (seen in capture)' : ''}: from LB ${m.fromLb.outcome}${m.fromLb.httpStatus !== undefined ? ` ${m.fromLb.httpStatus}` : ''}${m.code ? ` [${m.code}]` : ''} · direct ${m.direct.outcome}${m.direct.httpStatus !== undefined ? ` ${m.direct.httpStatus}` : ''}`,
      );
  }
}

export function renderStep(step: Step, evidencePaths?: ReadonlyMap<string, string>): string {
  const lines = [
    `${VERDICT_SYMBOL[step.verdict]} Step ${step.step} · ${STEP_TITLE[step.name]} ${step.verdict.toUpperCase()}${step.ms ? ` (${step.ms} ms)` : ''}`,
    `  ${step.summary}`,
  ];
  for (const f of facts(step)) lines.push(`  ${f}`);
  // The picture first: in a terminal the ladder is a file to open, so say where it is.
  const ladder = step.evidence.find((e) => e.name.endsWith('-ladder.png'));
  const ladderPath = ladder && evidencePaths?.get(ladder.sha256);
  if (ladderPath) lines.push(`  ladder diagram: ${ladderPath}`);
  for (const e of step.evidence) {
    const path = evidencePaths?.get(e.sha256);
    lines.push(`  evidence ${e.name} sha256:${e.sha256.slice(0, 12)} ${e.bytes} B${path ? ` → ${path}` : ''}`);
  }
  return lines.join('\n');
}

export function renderReport(report: Report, evidencePaths?: ReadonlyMap<string, string>): string {
  const t = report.target;
  const head = `lbcheck ${report.id} · ${t.name ? `${t.name} ` : ''}${t.vip}:${t.port}${t.lb ? ` via ${t.lb}` : ''} · ${report.startedAt}`;
  const d = report.diagnosis;
  return [
    head,
    '',
    ...report.steps.map((s) => renderStep(s, evidencePaths)),
    '',
    `Diagnosis: ${d.culprit.toUpperCase()} → ${d.team}`,
    `  ${d.summary}`,
    ...(d.stoppedAfter ? [`  (stopped after step ${d.stoppedAfter}; --all runs every step)`] : []),
  ].join('\n');
}

export function evidenceIndex(evidence: readonly Evidence[], paths: readonly string[]): Map<string, string> {
  return new Map(evidence.map((e, i) => [e.sha256, paths[i] ?? '']));
}
