// Issue 7's figures: appending 10,000 audit records, and verifying them with
// 1,000 evidence files of 100 KB.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { line } from './stats.js';

export async function benchAudit(): Promise<string[]> {
  const out = ['Audit (issue 7): hash-chained log and evidence store'];
  const dir = mkdtempSync(join(tmpdir(), 'lbcheck-audit-bench-'));
  try {
    const log = new AuditLog(dir);
    const files = Array.from({ length: 1000 }, () => randomBytes(100 * 1024));
    const shas = files.map((f) => log.evidence.put(f));
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) {
      const sha = shas[i % 1000] ?? '';
      await log.append({
        type: 'post',
        checkId: `chk-${String(i).padStart(10, '0')}`,
        kind: 'step',
        step: 1,
        verdict: 'pass',
        summary: 'bench',
        target: 'web-vip',
        requester: 'console:bench',
        platform: 'console',
        channel: 'console',
        messageIds: [],
        fileIds: [],
        evidence: i < 1000 ? [{ name: 'step1-lb.pcap', sha256: sha, bytes: 100 * 1024 }] : [],
        commands: [],
        worker: 'bench',
        zone: 'default',
        requestedAt: new Date().toISOString(),
      });
    }
    const appendS = (performance.now() - t0) / 1000;
    out.push(line('append 10,000 records (lock + tail + append each)', `${Math.round(10_000 / appendS)} rec/s`));
    const t1 = performance.now();
    const result = verifyAudit(log.file, log.evidence);
    const verifyS = (performance.now() - t1) / 1000;
    if (!result.ok || result.records !== 10_000 || result.evidenceChecked !== 1000)
      throw new Error(`verify failed: ${result.problems.join('; ')}`);
    out.push(line('verify 10,000 records + 1,000 files of 100 KB', `${verifyS.toFixed(2)} s`, '< 5 s', verifyS < 5));
    out.push(line('  verify rate', `${Math.round(10_000 / verifyS)} rec/s`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
