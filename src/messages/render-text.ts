// Human output for the terminal (CLI and console): the same view model chat
// renders (views.ts), drawn as text: the verdict line first, then the why and
// the key facts, then the evidence with where it was saved.
import { hostPort } from '../model/endpoint-text.js';
import type { Evidence } from '../model/evidence.js';
import type { Report, Step } from '../model/report.js';
import { finalView, stepView } from './views.js';

export { VERDICT_SYMBOL } from './views.js';

export function renderStep(step: Step, evidencePaths?: ReadonlyMap<string, string>): string {
  const view = stepView(step, []);
  const lines = [`${view.headline}${step.ms ? ` (${step.ms} ms)` : ''}`, `  ${view.why}`];
  // Servers: one line per member; the other steps' few facts fit on one line.
  const facts = view.facts.map((f) => `${f.label}: ${f.value}`);
  if (step.name === 'servers') for (const f of facts) lines.push(`  ${f}`);
  else if (facts.length > 0) lines.push(`  ${facts.join(' · ')}`);
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
  const target = `${t.name ? `${t.name} ` : ''}${hostPort(t.vip, t.port)}${t.lb ? ` via ${t.lb}` : ''}`;
  const head = `lbcheck ${report.id} · ${target} · ${report.startedAt}`;
  const d = report.diagnosis;
  const view = finalView(report);
  return [
    head,
    '',
    ...report.steps.map((s) => renderStep(s, evidencePaths)),
    '',
    `${view.headline} → ${d.team}`,
    `  ${view.why}`,
    ...(d.stoppedAfter ? [`  (stopped after step ${d.stoppedAfter}; --all runs every step)`] : []),
  ].join('\n');
}

export function evidenceIndex(evidence: readonly Evidence[], paths: readonly string[]): Map<string, string> {
  return new Map(evidence.map((e, i) => [e.sha256, paths[i] ?? '']));
}
