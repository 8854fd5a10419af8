// Signed checkpoints anchor the audit chain: a clean log verifies with its
// coverage stated; truncation, a log rewritten as a new self-consistent chain
// without the key, and an export edited and re-sealed each fail verification
// with a message that says so. Checkpoints reach a local webhook listener.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AuditLog, type CheckpointPolicy } from '../../src/audit/audit-log.js';
import { GENESIS, hashOf, seal, type AuditRecord } from '../../src/audit/audit-record.js';
import { checkpointPolicyFromEnv } from '../../src/audit/audit-config.js';
import type { SignedCheckpoint } from '../../src/audit/checkpoint.js';
import { describeCoverage } from '../../src/audit/checkpoint.js';
import { exportCheck, verifyExport } from '../../src/audit/export.js';
import { generateAuditKeys, loadSigner, loadVerifier, type AuditVerifier } from '../../src/audit/signing.js';
import { readTar, tarArchive } from '../../src/audit/tar.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { deleteKeys, TEST_REDIS } from '../pipeline/harness.js';

let scratch: string;
let keyFile: string;
let pubFile: string;
let key: AuditVerifier;
const CHECK = 'chk-0123456789';

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'lbcheck-anchor-'));
  const keys = generateAuditKeys();
  keyFile = join(scratch, 'audit.pem');
  pubFile = join(scratch, 'audit.pub.pem');
  writeFileSync(keyFile, keys.privatePem, { mode: 0o600 });
  writeFileSync(pubFile, keys.publicPem);
  key = loadVerifier(pubFile);
});
after(() => rmSync(scratch, { recursive: true, force: true }));

function policy(extra: Partial<CheckpointPolicy> = {}): CheckpointPolicy {
  return { signer: loadSigner(keyFile), everyRecords: 10, everySeconds: 3600, ...extra };
}

const command = (i: number) =>
  ({
    type: 'command',
    outcome: 'answered',
    command: `history ${i}`,
    platform: 'console',
    user: 'alice',
    channel: 'console',
  }) as const;

/** A log of n command records (checkpoints every 10), plus one posted step with evidence for the export tests. */
async function makeLog(name: string, n: number, extra: Partial<CheckpointPolicy> = {}): Promise<AuditLog> {
  const log = new AuditLog(join(scratch, name), policy(extra));
  for (let i = 0; i < n; i++) await log.append(command(i));
  const sha = log.evidence.put(Buffer.from('pcap bytes'));
  await log.append({
    type: 'post',
    checkId: CHECK,
    kind: 'step',
    step: 1,
    verdict: 'pass',
    summary: 'the LB saw the SYN',
    target: 'web-vip',
    requester: 'console:alice',
    platform: 'console',
    channel: 'console',
    messageIds: [],
    fileIds: [],
    evidence: [{ name: 'step1-lb.pcap', sha256: sha, bytes: 10 }],
    commands: ['tcpdump'],
    worker: 'w1',
    zone: 'default',
    requestedAt: new Date().toISOString(),
  });
  return log;
}

const lines = (log: AuditLog): string[] => readFileSync(log.file, 'utf8').trimEnd().split('\n');
const parsed = (log: AuditLog): AuditRecord[] => lines(log).map((l) => JSON.parse(l) as AuditRecord);

describe('signed checkpoints', () => {
  it('are written every N records, signed, and a clean log verifies with its coverage stated', async () => {
    const log = await makeLog('clean', 24);
    const checkpoints = parsed(log).filter((r) => r.type === 'checkpoint');
    // 10 commands, checkpoint (record 11), 10 more (12-21; 10 since the last checkpoint record), checkpoint (22).
    assert.deepEqual(
      checkpoints.map((c) => [c.seq, c.type === 'checkpoint' && c.count]),
      [
        [11, 10],
        [22, 21],
      ],
    );
    const r = verifyAudit(log.file, log.evidence, { key });
    assert.deepEqual(r.problems, []);
    assert.equal(r.coverage?.covered, 21);
    assert.equal(r.coverage?.unanchored, 5); // records 23-26 (commands) and 27 (the post)
    assert.match(
      describeCoverage(r.coverage ?? assert.fail()),
      /^records 1–21 covered by the checkpoint at .* \(record 22, key [0-9a-f]{16}\); 5 records after the last checkpoint are not yet anchored$/,
    );
  });

  it('a quiet log is anchored by time (checkpoint when due), and not again when nothing is new', async () => {
    const log = await makeLog('time', 2, { everySeconds: 1 });
    assert.equal(await log.checkpoint('time', true), undefined, 'not due yet');
    await new Promise((r) => setTimeout(r, 1100));
    const cp = await log.checkpoint('time', true);
    assert.equal(cp?.count, 3);
    assert.equal(cp?.reason, 'time');
    assert.equal((await log.checkpoint('manual'))?.seq, cp?.seq, 'nothing new: the same checkpoint');
  });

  it('truncation: a checkpoint whose head is gone from the chain fails, naming it', async () => {
    const log = await makeLog('trunc', 24);
    // Drop records 15-21 and re-chain the rest without the key: checkpoint 22 anchors record 21, now gone.
    const kept = parsed(log).filter((r) => r.seq < 15 || r.seq > 21);
    writeFileSync(log.file, rechain(kept));
    const r = verifyAudit(log.file, log.evidence, { key });
    assert.equal(r.ok, false);
    assert.ok(
      r.problems.some((p) =>
        /anchors record 21 .* not in this log: records it covers were removed or rewritten/.test(p),
      ),
      r.problems.join('\n'),
    );
  });

  it('truncation past the last checkpoint is caught by the copy sent off the machine', async () => {
    const received: SignedCheckpoint[] = [];
    const server = await listen((body) => received.push(JSON.parse(body) as SignedCheckpoint));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints`;
    const env = {
      LBCHECK_AUDIT_SIGNING_KEY: keyFile,
      LBCHECK_AUDIT_CHECKPOINT_RECORDS: '5',
      LBCHECK_AUDIT_CHECKPOINT_URL: url,
    };
    const log = new AuditLog(join(scratch, 'webhook'), checkpointPolicyFromEnv(env));
    for (let i = 0; i < 12; i++) await log.append(command(i));
    await waitFor(() => received.length >= 2);
    server.close();
    assert.deepEqual(
      received.map((c) => [c.seq, c.count]),
      [
        [6, 5],
        [12, 11],
      ],
    );
    // Cut the log back to before its last checkpoint: locally it still verifies...
    writeFileSync(log.file, `${lines(log).slice(0, 8).join('\n')}\n`);
    assert.deepEqual(verifyAudit(log.file, log.evidence, { key }).problems, []);
    // ...but not against what left the machine.
    const r = verifyAudit(log.file, log.evidence, { key, offMachine: received.at(-1) });
    assert.deepEqual(r.problems, [
      `truncated: the off-machine checkpoint of ${received.at(-1)?.time} covers 11 records, this log holds only 8`,
    ]);
  });

  it('a log rewritten as a new self-consistent chain without the key fails; the chain alone cannot tell', async () => {
    const log = await makeLog('rewrite', 24);
    const edited = parsed(log).map((r) =>
      r.type === 'command' && r.seq === 3 ? { ...r, command: 'history forged' } : r,
    );
    writeFileSync(log.file, rechain(edited));
    assert.deepEqual(verifyAudit(log.file, log.evidence).problems, [], 'the hash chain alone is fooled');
    const r = verifyAudit(log.file, log.evidence, { key });
    assert.equal(r.ok, false);
    assert.match(r.problems.join('\n'), /record 11 \(checkpoint of .*\): it anchors record 10 .* not in this log/);
  });

  it('a rewrite that drops the checkpoints (or re-signs them with another key) fails too', async () => {
    const log = await makeLog('drop', 24);
    writeFileSync(log.file, rechain(parsed(log).filter((r) => r.type !== 'checkpoint')));
    const r = verifyAudit(log.file, log.evidence, { key });
    assert.match(r.problems.join('\n'), /no record is covered by a valid checkpoint/);
    const other = generateAuditKeys();
    const otherFile = join(scratch, 'other.pem');
    writeFileSync(otherFile, other.privatePem);
    const forged = await makeLog('forged', 12, { signer: loadSigner(otherFile) });
    const f = verifyAudit(forged.file, forged.evidence, { key });
    assert.match(f.problems.join('\n'), /signed by key [0-9a-f]{16}, not by the given public key/);
    // A checkpoint whose signature was copied onto other content.
    const copied = await makeLog('copied', 12);
    const all = parsed(copied).map((r) =>
      r.type === 'checkpoint' ? { ...r, count: r.count - 1, head: headOf(copied, r.count - 1) } : r,
    );
    writeFileSync(copied.file, rechain(all));
    assert.match(verifyAudit(copied.file, copied.evidence, { key }).problems.join('\n'), /signature does not verify/);
  });
});

describe('audit key settings', () => {
  it('refuses bad checkpoint settings and keys that cannot sign, naming the variable or file', () => {
    assert.throws(
      () => checkpointPolicyFromEnv({ LBCHECK_AUDIT_SIGNING_KEY: keyFile, LBCHECK_AUDIT_CHECKPOINT_RECORDS: 'abc' }),
      /LBCHECK_AUDIT_CHECKPOINT_RECORDS="abc" must be a whole number/,
    );
    assert.throws(
      () => checkpointPolicyFromEnv({ LBCHECK_AUDIT_SIGNING_KEY: keyFile, LBCHECK_AUDIT_CHECKPOINT_URL: 'syslog:x' }),
      /LBCHECK_AUDIT_CHECKPOINT_URL="syslog:x" must be the http\(s\) URL/,
    );
    assert.throws(
      () => checkpointPolicyFromEnv({ LBCHECK_AUDIT_SIGNING_KEY: join(scratch, 'missing.pem') }),
      /cannot read the audit signing key .*missing\.pem: ENOENT/,
    );
    const rsa = join(scratch, 'rsa.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    assert.throws(() => checkpointPolicyFromEnv({ LBCHECK_AUDIT_SIGNING_KEY: rsa }), /is a rsa key, not Ed25519/);
    assert.throws(() => loadVerifier(keyFile.replace('.pem', '.nope')), /cannot read the audit public key/);
  });
  it('warns about a signing key others can read; none without a key', () => {
    const loose = join(scratch, 'loose.pem');
    writeFileSync(loose, readFileSync(keyFile), { mode: 0o644 });
    chmodSync(loose, 0o644);
    assert.match(loadSigner(loose).warning ?? '', /readable by others \(mode 644\): chmod 600/);
    assert.equal(loadSigner(keyFile).warning, undefined);
    assert.equal(checkpointPolicyFromEnv({}), undefined);
  });
});

describe('signed exports', () => {
  it('an export is signed and verifies with the public key; a checkpoint is written for it', async () => {
    const log = await makeLog('export', 3);
    const cp = await log.checkpoint('export');
    assert.equal(cp?.reason, 'export');
    const archive = exportCheck(log, CHECK, { signer: policy().signer, ...(cp ? { checkpoint: cp } : {}) });
    const r = verifyExport(archive, key);
    assert.deepEqual(r.problems, []);
    assert.equal(r.signature, 'valid');
    const signature = JSON.parse(readTar(archive).get(`${CHECK}/SIGNATURE.json`)?.toString() ?? '{}') as {
      checkpoint: { count: number };
    };
    assert.equal(signature.checkpoint.count, 4);
  });

  it('an export edited and re-sealed (manifest recomputed) fails with the public key', async () => {
    const log = await makeLog('reseal', 3);
    const archive = exportCheck(log, CHECK, { signer: policy().signer });
    const resealed = reseal(archive, (name, data) =>
      name.endsWith('audit-records.jsonl') ? rehashed(data, (l) => l.replace('"pass"', '"fail"')) : data,
    );
    assert.deepEqual(verifyExport(resealed).problems, [], 'without the key the re-seal is self-consistent');
    const r = verifyExport(resealed, key);
    assert.equal(r.ok, false);
    assert.deepEqual(r.problems, [
      'the signature does not match the manifest: the archive was edited and re-sealed without the key',
    ]);
  });

  it('an unsigned export fails when a public key is given', async () => {
    const log = await makeLog('unsigned', 1);
    assert.match(verifyExport(exportCheck(log, CHECK), key).problems.join(), /the export is not signed/);
  });
});

describe('lbcheck audit keygen, verify --public-key, export (the command line)', () => {
  const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
  const lbcheck = (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, 'audit', ...args], {
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });

  it('lbcheck start with a signing key says so, and anchors what it wrote when it stops', async () => {
    const dir = join(scratch, 'start');
    const prefix = `lbc-anchor-${process.pid}`;
    const child = spawn(process.execPath, [cli, 'start'], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: TEST_REDIS,
        LBCHECK_PREFIX: prefix,
        LBCHECK_AUDIT_SIGNING_KEY: keyFile,
        LBCHECK_AUDIT_DIR: dir,
        LBCHECK_EVIDENCE_DIR: join(dir, 'evidence'),
        LBCHECK_LOG: join(dir, 'bot.log'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end('/lbcheck help\n');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await deleteKeys(prefix);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`signed checkpoints \\(key ${key.keyId}\\) every 100 records or 300 s`));
    const log = new AuditLog(dir);
    const last = parsed(log).at(-1);
    assert.equal(last?.type === 'checkpoint' && last.reason, 'shutdown', JSON.stringify(last));
    const r = verifyAudit(log.file, log.evidence, { key });
    assert.deepEqual(r.problems, []);
    assert.equal(r.coverage?.unanchored, 0);
  });

  it('keygen writes a usable pair; verify states coverage; a tampered log and a re-sealed export exit 1', async () => {
    const prefix = join(scratch, 'cli-key');
    const gen = await lbcheck(['keygen', '--out', prefix]);
    assert.equal(gen.code, 0, gen.out);
    assert.equal(readFileSync(`${prefix}.pem`).length > 0 && (await lbcheck(['keygen', '--out', prefix])).code, 2);
    const env = { LBCHECK_AUDIT_SIGNING_KEY: `${prefix}.pem`, LBCHECK_AUDIT_CHECKPOINT_RECORDS: '10' };
    const log = new AuditLog(join(scratch, 'cli-log'), checkpointPolicyFromEnv(env));
    for (let i = 0; i < 13; i++) await log.append(command(i));
    const ok = await lbcheck(['verify', '--dir', log.dir, '--public-key', `${prefix}.pub.pem`]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(
      ok.out,
      /Anchored: records 1–10 covered by the checkpoint at .*; 3 records after the last checkpoint are not yet anchored/,
    );
    const unkeyed = await lbcheck(['verify', '--dir', log.dir]);
    assert.match(unkeyed.out, /Not checked: signed checkpoints \(give --public-key/);
    await log.append({ ...command(99), checkId: CHECK });
    const out = join(scratch, 'cli.tar');
    const exported = await lbcheck(['export', CHECK, '--out', out, '--dir', log.dir], env);
    assert.match(exported.out, /signed with key [0-9a-f]{16}; checkpoint at record/);
    assert.equal((await lbcheck(['verify', '--export', out, '--public-key', `${prefix}.pub.pem`])).code, 0);
    writeFileSync(
      out,
      reseal(readFileSync(out), (n, d) =>
        n.endsWith('.jsonl') ? Buffer.from(d.toString().replace('alice', 'mallory')) : d,
      ),
    );
    const bad = await lbcheck(['verify', '--export', out, '--public-key', `${prefix}.pub.pem`]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /re-sealed without the key/);
    writeFileSync(log.file, rechain(parsed(log).filter((r) => r.type !== 'checkpoint')));
    const rewritten = await lbcheck(['verify', '--dir', log.dir, '--public-key', `${prefix}.pub.pem`]);
    assert.equal(rewritten.code, 1);
    assert.match(rewritten.out, /no record is covered by a valid checkpoint/);
  });
});

/** Re-chains records as an editor without the key would: new seqs, prevHash and hash, so the chain verifies. */
function rechain(records: AuditRecord[]): string {
  let prev = GENESIS;
  return records
    .map((r, i) => {
      const { time, ...rest } = r;
      const body = Object.fromEntries(
        Object.entries(rest).filter(([k]) => k !== 'hash' && k !== 'seq' && k !== 'prevHash'),
      ) as Parameters<typeof seal>[1];
      const sealed = seal({ seq: i + 1, time, prevHash: prev }, body);
      prev = sealed.hash;
      return `${JSON.stringify(sealed)}\n`;
    })
    .join('');
}

function headOf(log: AuditLog, seq: number): string {
  const r = parsed(log).find((x) => x.seq === seq);
  const { hash, ...rest } = r ?? assert.fail(`no record ${seq}`);
  assert.equal(hashOf(rest), hash);
  return hash;
}

/** Edits JSON-lines records and gives each a matching hash again, as an editor would. */
function rehashed(data: Buffer, edit: (line: string) => string): Buffer {
  const out = data
    .toString()
    .trimEnd()
    .split('\n')
    .map((line) => {
      const { hash: _old, ...rest } = JSON.parse(edit(line)) as AuditRecord;
      return JSON.stringify({ ...rest, hash: hashOf(rest) });
    });
  return Buffer.from(`${out.join('\n')}\n`);
}

/** Edits files in an export and recomputes its manifest, as an editor without the key would. */
function reseal(archive: Buffer, edit: (name: string, data: Buffer) => Buffer): Buffer {
  const files = [...readTar(archive).entries()].map(([name, data]) => ({ name, data: edit(name, data) }));
  const manifestAt = files.findIndex((f) => f.name.endsWith('/MANIFEST.json'));
  const manifest = JSON.parse(files[manifestAt]?.data.toString() ?? '{}') as {
    files: { path: string; sha256: string; bytes: number }[];
  };
  for (const f of manifest.files) {
    const data = files.find((x) => x.name === f.path)?.data ?? Buffer.alloc(0);
    f.sha256 = createHash('sha256').update(data).digest('hex');
    f.bytes = data.length;
  }
  files[manifestAt] = { name: files[manifestAt]?.name ?? '', data: Buffer.from(JSON.stringify(manifest, null, 2)) };
  return tarArchive(files);
}

function listen(onBody: (body: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      onBody(body);
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function waitFor(test: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!test()) {
    if (Date.now() > deadline) assert.fail('timed out waiting for the checkpoints to arrive');
    await new Promise((r) => setTimeout(r, 20));
  }
}
