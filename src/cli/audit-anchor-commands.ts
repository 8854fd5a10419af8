// `lbcheck audit verify` and `lbcheck audit keygen`: checking the chain, its
// signed checkpoints and exports with the public key, and making the key pair.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AuditLog } from '../audit/audit-log.js';
import { describeCoverage } from '../audit/checkpoint.js';
import { verifyExport } from '../audit/export.js';
import { generateAuditKeys, loadVerifier, type AuditVerifier } from '../audit/signing.js';
import { verifyAudit, type VerifyResult } from '../audit/verify.js';
import { InputError } from '../errors.js';

function verifier(one: (n: string) => string | undefined): AuditVerifier | undefined {
  const file = one('public-key');
  return file ? loadVerifier(file) : undefined;
}

function readCheckpointFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new InputError(
      `--checkpoint ${file}: ${(err as Error).message}`,
      'give the JSON the checkpoint webhook received',
    );
  }
}

/** How an archive's signature was judged, after "files in the archive match". */
function signatureNote(key: AuditVerifier | undefined): string {
  return key ? `; signed by key ${key.keyId}` : '; signature not checked (give --public-key)';
}

function printVerify(result: VerifyResult, key: AuditVerifier | undefined): void {
  if (result.ok) console.log(`OK: ${result.records} records chained, ${result.evidenceChecked} evidence files match`);
  else console.log(`PROBLEMS (${result.problems.length}):\n${result.problems.map((x) => `  ${x}`).join('\n')}`);
  if (result.coverage) console.log(`Anchored: ${describeCoverage(result.coverage)}`);
  else if (!key) console.log('Not checked: signed checkpoints (give --public-key to check them)');
}

export function verifyCommand(log: AuditLog, one: (n: string) => string | undefined, json: boolean): number {
  const key = verifier(one);
  const archive = one('export');
  if (archive) {
    const result = verifyExport(readFileSync(archive), key);
    if (json) console.log(JSON.stringify(result, null, 2));
    else if (result.ok) console.log(`OK: ${result.files} files in the archive match${signatureNote(key)}`);
    else console.log(`PROBLEMS (${result.problems.length}):\n${result.problems.map((x) => `  ${x}`).join('\n')}`);
    return result.ok ? 0 : 1;
  }
  const checkpointFile = one('checkpoint');
  if (checkpointFile && !key) throw new InputError('--checkpoint needs --public-key to check its signature');
  const result = verifyAudit(log.file, log.evidence, {
    ...(key ? { key } : {}),
    ...(checkpointFile ? { offMachine: readCheckpointFile(checkpointFile) } : {}),
  });
  if (json) console.log(JSON.stringify(result, null, 2));
  else printVerify(result, key);
  return result.ok ? 0 : 1;
}

export function keygen(prefix: string): number {
  const privateFile = `${prefix}.pem`;
  const publicFile = `${prefix}.pub.pem`;
  for (const f of [privateFile, publicFile])
    if (existsSync(f)) throw new InputError(`${f} exists; refusing to overwrite a key`, 'choose another --out prefix');
  const keys = generateAuditKeys();
  writeFileSync(privateFile, keys.privatePem, { mode: 0o600 });
  writeFileSync(publicFile, keys.publicPem);
  console.log(
    `key ${keys.keyId}: ${privateFile} for the bot (LBCHECK_AUDIT_SIGNING_KEY, keep it private), ` +
      `${publicFile} for auditors (audit verify --public-key)`,
  );
  return 0;
}
