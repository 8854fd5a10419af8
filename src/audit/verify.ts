// `lbcheck audit verify`: re-walks the hash chain and re-hashes every evidence
// file the log mentions. Reports the first broken record, a torn last line,
// and every missing or altered file (pruned files are expected to be gone).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { GENESIS, hashOf, parseRecord, type AuditRecord } from './audit-record.js';
import { checkCheckpoints, checkOffMachine, type Coverage } from './checkpoint.js';
import type { EvidenceStore } from './evidence-store.js';
import type { AuditVerifier } from './signing.js';

export interface VerifyResult {
  ok: boolean;
  records: number;
  evidenceChecked: number;
  problems: string[];
  /** With a public key: how far valid checkpoints anchor the log. */
  coverage?: Coverage;
}

export interface AnchorOptions {
  /** The public key checkpoints must be signed with. */
  key?: AuditVerifier;
  /** A checkpoint kept off the machine (JSON as the webhook received it): detects truncation past the last one. */
  offMachine?: unknown;
}

export function verifyChain(text: string): { records: AuditRecord[]; problems: string[] } {
  const problems: string[] = [];
  const records: AuditRecord[] = [];
  const lines = text.split('\n');
  const endsClean = text === '' || text.endsWith('\n');
  if (endsClean) lines.pop();
  let prev = GENESIS;
  let broken = false;
  lines.forEach((line, i) => {
    const n = i + 1;
    const rec = parseRecord(line);
    if (!rec) {
      const last = i === lines.length - 1;
      problems.push(
        last && !endsClean
          ? `line ${n}: torn last line (a crash while appending?): ${JSON.stringify(line.slice(0, 60))}`
          : `line ${n}: not a record (unparseable${line.trim() === '' ? ', empty' : ''}; a torn write or an edit)`,
      );
      return;
    }
    records.push(rec);
    if (broken) return;
    const { hash, ...rest } = rec;
    if (hashOf(rest) !== hash) {
      problems.push(`line ${n} (record ${rec.seq}): altered: its content does not match its hash`);
      broken = true;
    } else if (rec.prevHash !== prev) {
      problems.push(
        `line ${n} (record ${rec.seq}): does not follow the record before it: ` +
          'a record was deleted, inserted or reordered here',
      );
      broken = true;
    }
    prev = hash;
  });
  return { records, problems };
}

export function verifyAudit(file: string, store: EvidenceStore, anchors: AnchorOptions = {}): VerifyResult {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const { records, problems } = verifyChain(text);
  const coverage = anchors.key ? checkCheckpoints(records, anchors.key) : undefined;
  if (coverage) problems.push(...coverage.problems);
  if (anchors.key && anchors.offMachine !== undefined)
    problems.push(...checkOffMachine(records, anchors.offMachine, anchors.key));
  const pruned = new Set(records.flatMap((r) => (r.type === 'prune' ? r.removed.map((x) => x.sha256) : [])));
  const wanted = new Map<string, { name: string; checkId: string }>();
  for (const r of records)
    if (r.type === 'post') for (const e of r.evidence) wanted.set(e.sha256, { name: e.name, checkId: r.checkId });
  let checked = 0;
  for (const [sha, { name, checkId }] of wanted) {
    if (pruned.has(sha)) continue;
    const data = store.get(sha);
    checked++;
    if (!data) {
      problems.push(`evidence ${name} of ${checkId} (sha256 ${sha}) is missing from ${store.dir}`);
    } else if (createHash('sha256').update(data).digest('hex') !== sha) {
      problems.push(`evidence ${name} of ${checkId} (sha256 ${sha}) was altered: its bytes no longer match`);
    }
  }
  return {
    ok: problems.length === 0,
    records: records.length,
    evidenceChecked: checked,
    problems,
    ...(coverage ? { coverage } : {}),
  };
}
