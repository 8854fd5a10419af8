// The evidence page of a chat check, made by the bot side when it posts the
// diagnosis: the same page `--evidence-dir` writes (check-page.ts), from the
// report and the bytes of its steps' evidence as archived, with the check it
// re-ran linked as ../<id>/check.html: the layout of an export and of the
// signed check link alike (evidence-links.ts).
import { CHECK_PAGE_NAME, renderCheckPage, type PageFile } from './check-page.js';
import { evidence as evidenceItem, MEDIA, type Evidence } from '../model/evidence.js';
import type { Report } from '../model/report.js';

/** The page's files: every step's evidence (bytes where still stored), then report.json. */
export function pageFiles(report: Report, bytesOf: (sha256: string) => Buffer | undefined): PageFile[] {
  const seen = new Set<string>();
  const files: PageFile[] = [];
  for (const step of report.steps)
    for (const meta of step.evidence) {
      if (seen.has(meta.name)) continue;
      seen.add(meta.name);
      const data = bytesOf(meta.sha256);
      files.push({ ...meta, ...(data ? { data } : {}) });
    }
  const json = reportFile(report);
  files.push({ name: json.name, sha256: json.sha256, bytes: json.bytes, mediaType: json.mediaType });
  return files;
}

/** report.json as the bot archives it with the final post. */
export function reportFile(report: Report): Evidence {
  return evidenceItem('report.json', MEDIA.json, `${JSON.stringify(report, null, 2)}\n`);
}

/** check.html of a chat check; earlier: the report of the check it re-ran, when the bot still has it. */
export function chatCheckPage(
  report: Report,
  bytesOf: (sha256: string) => Buffer | undefined,
  earlier?: Report,
): Evidence {
  const reruns = earlier ? [{ report: earlier, href: `../${earlier.id}/${CHECK_PAGE_NAME}` }] : [];
  return evidenceItem(CHECK_PAGE_NAME, MEDIA.html, renderCheckPage(report, pageFiles(report, bytesOf), reruns));
}
