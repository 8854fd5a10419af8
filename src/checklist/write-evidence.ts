// Saves a check's evidence and report to a folder, one subfolder per check.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Evidence } from './evidence.js';
import type { Report } from '../model/report.js';

export function writeEvidence(
  dir: string,
  report: Report,
  evidence: readonly Evidence[],
): { folder: string; paths: string[] } {
  const folder = join(dir, report.id);
  mkdirSync(folder, { recursive: true });
  const paths = evidence.map((e) => {
    const path = join(folder, e.name);
    writeFileSync(path, e.data);
    return path;
  });
  writeFileSync(join(folder, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return { folder, paths };
}
