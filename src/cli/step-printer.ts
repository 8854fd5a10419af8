// Human output of `lbcheck run`, streamed: the header before the check starts,
// each step the moment the engine decides it (as chat posts it), then the
// skipped steps and the diagnosis. Evidence is written per step when a folder
// was given; otherwise the output says how to keep it instead of listing
// files that exist nowhere.
import { hostPort } from '../model/endpoint-text.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CheckTarget } from '../target/check-target.js';
import type { Evidence } from '../model/evidence.js';
import { renderStep } from '../messages/render-text.js';
import { finalView } from '../messages/views.js';
import type { Report, Step } from '../model/report.js';

export class StepPrinter {
  private readonly printed = new Set<number>();
  private evidenceCount = 0;
  private readonly folder: string | undefined;

  constructor(
    private readonly checkId: string,
    private readonly write: (text: string) => void,
    evidenceDir: string | undefined,
  ) {
    this.folder = evidenceDir === undefined ? undefined : resolve(evidenceDir, checkId);
  }

  header(target: CheckTarget): void {
    const name = target.name ? `${target.name} ` : '';
    const group = target.lbNodes && target.lbNodes.length > 1 ? target.lbNodes : undefined;
    const via = group
      ? ` via the HA group ${group.map((n) => n.label).join(', ')}`
      : target.lb
        ? ` via ${target.lb.label}`
        : ' (no LB access: steps needing a capture are inconclusive)';
    this.write(`lbcheck ${this.checkId} · ${name}${hostPort(target.vip, target.port)}${via}\n\n`);
  }

  step(step: Step, evidence: readonly Evidence[]): void {
    this.printed.add(step.step);
    this.evidenceCount += evidence.length;
    if (this.folder === undefined) {
      this.write(`${renderStep({ ...step, evidence: [] })}\n`);
      return;
    }
    mkdirSync(this.folder, { recursive: true });
    const paths = new Map<string, string>();
    for (const e of evidence) {
      const path = join(this.folder, e.name);
      writeFileSync(path, e.data);
      paths.set(e.sha256, path);
    }
    this.write(`${renderStep(step, paths)}\n`);
  }

  finish(report: Report): void {
    for (const s of report.steps) if (!this.printed.has(s.step)) this.write(`${renderStep(s)}\n`);
    const d = report.diagnosis;
    const lines = [
      '',
      `${finalView(report).headline} → ${d.team}`,
      `  ${d.summary}`,
      ...(d.stoppedAfter ? [`  (stopped after step ${d.stoppedAfter}; --all runs every step)`] : []),
    ];
    if (this.folder !== undefined) {
      mkdirSync(this.folder, { recursive: true });
      writeFileSync(join(this.folder, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      lines.push('', `Evidence and report.json saved in ${this.folder}`);
    } else if (this.evidenceCount > 0) {
      lines.push(
        '',
        `Evidence not saved (${this.evidenceCount} files: LB pcaps, decodes, remote commands, timings).`,
        'Run again with --evidence-dir DIR to keep them (e.g. --evidence-dir ./evidence).',
      );
    }
    this.write(`${lines.join('\n')}\n`);
  }
}
