// The evidence page of a chat check, archived with its diagnosis: rendered from
// the report and its steps' archived evidence (src/evidence/chat-check-page.ts),
// stored content-addressed beside them, and recorded in the final post's audit
// record as check.html, so the page server and `lbcheck audit export` find it.
import type { AuditLog } from '../../src/audit/audit-log.js';
import { chatCheckPage } from '../../src/evidence/chat-check-page.js';
import type { Report } from '../../src/model/report.js';
import type { EvidenceFile } from '../../src/pipeline/poster.js';

/** earlier: the report of the check this one re-ran, linked on the page with what changed. */
export function archiveCheckPage(audit: AuditLog, report: Report, earlier?: Report): EvidenceFile {
  const page = chatCheckPage(report, (sha) => audit.evidence.get(sha), earlier);
  audit.evidence.put(page.data, page.sha256);
  return page;
}
