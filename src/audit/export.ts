// `lbcheck audit export <checkId>`: one tar archive with the report, every
// evidence file and the check's audit records, plus a manifest, that can be
// verified on its own (`lbcheck audit verify --export FILE`).
import { createHash } from 'node:crypto';
import { hashOf, type AuditRecord } from './audit-record.js';
import type { AuditLog } from './audit-log.js';
import { readTar, tarArchive } from './tar.js';
import { CHECK_ID, isSafeEvidenceName } from '../pipeline/job-validation.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function recordsOf(log: AuditLog, checkId: string): AuditRecord[] {
  return log.records().filter((r) => (r.type === 'post' || r.type === 'command') && r.checkId === checkId);
}

export function exportCheck(log: AuditLog, checkId: string): Buffer {
  // Both become paths inside the archive, and so on the disk of whoever unpacks it.
  if (!CHECK_ID.test(checkId)) throw new Error(`${JSON.stringify(checkId)} is not a check id (chk-0123456789)`);
  const records = recordsOf(log, checkId);
  if (records.length === 0) throw new Error(`no audit records for ${checkId}`);
  const entries: { name: string; data: Buffer }[] = [];
  const missing: string[] = [];
  for (const r of records) {
    if (r.type !== 'post') continue;
    for (const e of r.evidence) {
      if (!isSafeEvidenceName(e.name)) {
        missing.push(`${JSON.stringify(e.name)} (not a safe file name)`);
        continue;
      }
      const name = `${checkId}/evidence/${e.sha256.slice(0, 12)}-${e.name}`;
      if (entries.some((x) => x.name === name)) continue;
      const data = log.evidence.get(e.sha256);
      if (!data) missing.push(`${e.name} (${e.sha256})`);
      else entries.push({ name, data });
    }
  }
  entries.push({
    name: `${checkId}/audit-records.jsonl`,
    data: Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n'),
  });
  const manifest = {
    checkId,
    exportedAt: new Date().toISOString(),
    missingEvidence: missing,
    files: entries.map((e) => ({ path: e.name, sha256: sha(e.data), bytes: e.data.length })),
  };
  entries.push({ name: `${checkId}/MANIFEST.json`, data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) });
  return tarArchive(entries);
}

export function verifyExport(archive: Buffer): { ok: boolean; problems: string[]; files: number } {
  const files = readTar(archive);
  const problems: string[] = [];
  const manifestEntry = [...files.entries()].find(([n]) => n.endsWith('/MANIFEST.json'));
  if (!manifestEntry) return { ok: false, problems: ['no MANIFEST.json in the archive'], files: files.size };
  const manifest = JSON.parse(manifestEntry[1].toString('utf8')) as {
    files: { path: string; sha256: string }[];
    missingEvidence: string[];
  };
  for (const f of manifest.files) {
    const data = files.get(f.path);
    if (!data) problems.push(`${f.path} is listed in the manifest but not in the archive`);
    else if (sha(data) !== f.sha256) problems.push(`${f.path} does not match its manifest sha256`);
  }
  const recordsFile = [...files.entries()].find(([n]) => n.endsWith('/audit-records.jsonl'));
  const records = (recordsFile?.[1].toString('utf8') ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditRecord);
  for (const r of records) {
    const { hash, ...rest } = r;
    if (hashOf(rest) !== hash) problems.push(`audit record ${r.seq} was altered (hash mismatch)`);
    if (r.type !== 'post') continue;
    for (const e of r.evidence) {
      const entry = [...files.entries()].find(([n]) => n.endsWith(`/${e.sha256.slice(0, 12)}-${e.name}`));
      if (!entry) problems.push(`evidence ${e.name} named by record ${r.seq} is not in the archive`);
      else if (sha(entry[1]) !== e.sha256)
        problems.push(`evidence ${e.name} does not match the sha256 its audit record names`);
    }
  }
  for (const m of manifest.missingEvidence) problems.push(`evidence ${m} was already missing when exported`);
  return { ok: problems.length === 0, problems, files: files.size };
}
