// Saves a check's evidence and report to a folder, one subfolder per check,
// with the check's HTML page (check.html) beside them: the page links each
// file relatively, so the folder (or an audit export of it) opens offline.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_PAGE_NAME, renderCheckPage, type PageRerun } from './check-page.js';
import { evidence as evidenceItem, MEDIA, type Evidence } from '../model/evidence.js';
import type { Report } from '../model/report.js';

/** Earlier and later checks of the same target saved in the same folder, newest first. */
function rerunsOf(dir: string, report: Report): PageRerun[] {
  const same = (r: Report): boolean =>
    r.id !== report.id && r.target.vip === report.target.vip && r.target.port === report.target.port;
  const found: PageRerun[] = [];
  for (const name of readdirSync(dir)) {
    const file = join(dir, name, 'report.json');
    if (!existsSync(file)) continue;
    try {
      const r = JSON.parse(readFileSync(file, 'utf8')) as Report;
      if (same(r)) found.push({ report: r, href: `../${encodeURIComponent(name)}/${CHECK_PAGE_NAME}` });
    } catch {
      // not a report this version can read: not listed
    }
  }
  return found.sort((a, b) => b.report.startedAt.localeCompare(a.report.startedAt));
}

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
  const json = evidenceItem('report.json', MEDIA.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(folder, 'report.json'), json.data);
  const page = renderCheckPage(report, [...evidence, json], rerunsOf(dir, report));
  writeFileSync(join(folder, CHECK_PAGE_NAME), page);
  return { folder, paths: [...paths, join(folder, CHECK_PAGE_NAME)] };
}
