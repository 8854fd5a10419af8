// `lbcheck audit export <checkId>`: one tar archive with the report, every
// evidence file and the check's audit records, plus a manifest, that can be
// verified on its own (`lbcheck audit verify --export FILE`). With the audit
// signing key the manifest is signed (SIGNATURE.json), so an archive edited and
// re-sealed (manifest recomputed) fails verification with the public key.
import { createHash } from 'node:crypto';
import { hashOf, type AuditRecord } from './audit-record.js';
import type { AuditLog } from './audit-log.js';
import type { SignedCheckpoint } from './checkpoint.js';
import type { AuditSigner, AuditVerifier } from './signing.js';
import { readTar, tarArchive } from './tar.js';
import { CHECK_ID } from '../model/check-id.js';
import { isSafeEvidenceName } from '../model/evidence.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function recordsOf(log: AuditLog, checkId: string): AuditRecord[] {
  return log.records().filter((r) => (r.type === 'post' || r.type === 'command') && r.checkId === checkId);
}

export interface ExportSigning {
  signer: AuditSigner;
  /** The checkpoint written for this export: the log's head when it was made. */
  checkpoint?: SignedCheckpoint;
}

const exportPayload = (manifestSha256: string, keyId: string): string =>
  `lbcheck-audit-export/v1 ${JSON.stringify({ manifestSha256, keyId })}`;

interface Signature {
  algorithm: 'ed25519';
  keyId: string;
  manifestSha256: string;
  signature: string;
  checkpoint?: { seq: number; head: string; count: number; time: string; signature: string };
}

function signatureEntry(manifest: Buffer, signing: ExportSigning): Buffer {
  const manifestSha256 = sha(manifest);
  const cp = signing.checkpoint;
  const sig: Signature = {
    algorithm: 'ed25519',
    keyId: signing.signer.keyId,
    manifestSha256,
    signature: signing.signer.sign(exportPayload(manifestSha256, signing.signer.keyId)),
    ...(cp
      ? { checkpoint: { seq: cp.seq, head: cp.head, count: cp.count, time: cp.time, signature: cp.signature } }
      : {}),
  };
  return Buffer.from(`${JSON.stringify(sig, null, 2)}\n`);
}

export function exportCheck(log: AuditLog, checkId: string, signing?: ExportSigning): Buffer {
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
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  entries.push({ name: `${checkId}/MANIFEST.json`, data: manifestBytes });
  if (signing) entries.push({ name: `${checkId}/SIGNATURE.json`, data: signatureEntry(manifestBytes, signing) });
  return tarArchive(entries);
}

/** The manifest's signature against the public key: a re-sealed archive has a manifest the key never signed. */
function signatureProblems(files: Map<string, Buffer>, manifest: Buffer, key: AuditVerifier): string[] {
  const entry = [...files.entries()].find(([n]) => n.endsWith('/SIGNATURE.json'));
  if (!entry) return ['the export is not signed (no SIGNATURE.json): it was made without LBCHECK_AUDIT_SIGNING_KEY'];
  let sig: Partial<Signature>;
  try {
    sig = JSON.parse(entry[1].toString('utf8')) as Partial<Signature>;
  } catch {
    return ['SIGNATURE.json is not JSON'];
  }
  if (sig.keyId !== key.keyId)
    return [`the export is signed by key ${String(sig.keyId)}, not by the given public key ${key.keyId}`];
  const actual = sha(manifest);
  if (sig.manifestSha256 !== actual || !key.verify(exportPayload(actual, key.keyId), String(sig.signature)))
    return ['the signature does not match the manifest: the archive was edited and re-sealed without the key'];
  return [];
}

export interface ExportVerifyResult {
  ok: boolean;
  problems: string[];
  files: number;
  /** valid: checked with the public key; unchecked: no key given. */
  signature: 'valid' | 'unchecked';
}

export function verifyExport(archive: Buffer, key?: AuditVerifier): ExportVerifyResult {
  const files = readTar(archive);
  const problems: string[] = [];
  const manifestEntry = [...files.entries()].find(([n]) => n.endsWith('/MANIFEST.json'));
  if (!manifestEntry)
    return { ok: false, problems: ['no MANIFEST.json in the archive'], files: files.size, signature: 'unchecked' };
  if (key) problems.push(...signatureProblems(files, manifestEntry[1], key));
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
  return { ok: problems.length === 0, problems, files: files.size, signature: key ? 'valid' : 'unchecked' };
}
