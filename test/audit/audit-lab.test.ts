// The audit trail end to end: checks run through the console pipeline on the
// lab, then the log and evidence verify; every kind of tampering is reported
// as exactly that problem; exports verify on their own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditRecord, PostRecord } from '../../src/audit/audit-record.js';
import { exportCheck, verifyExport } from '../../src/audit/export.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { startLab, type Lab } from '../lab/lab.js';
import { runOk } from '../lab/run-command.js';
import { startHarness, type Harness } from '../pipeline/harness.js';

let lab: Lab;
let h: Harness;
let scratch: string;
const ids: string[] = [];

const idOf = (ack: string): string => /Queued (chk-[0-9a-f]{10})/.exec(ack)?.[1] ?? assert.fail(ack);

before(async () => {
  lab = await startLab({ serverCount: 2 });
  h = await startHarness(lab);
  h.startWorker();
  scratch = mkdtempSync(join(tmpdir(), 'lbcheck-audit-'));
  ids.push(idOf(await h.send('/lbcheck haproxy-http')));
  await h.waitFor(new RegExp(`\\[${ids[0]}\\] (Diagnosis|No fault found)`));
  const undo = await lab.faults.dropBeforeLb('dnat');
  ids.push(idOf(await h.send('/lbcheck dnat')));
  await h.waitFor(new RegExp(`\\[${ids[1]}\\] (Diagnosis|No fault found)`));
  await undo();
  await h.send('/lbcheck no-such-target');
});
after(async () => {
  await h?.close();
  lab?.teardown();
  rmSync(scratch, { recursive: true, force: true });
});

/** A copy of the audit directory to tamper with. */
function copy(name: string): AuditLog {
  const dir = join(scratch, name);
  cpSync(h.audit.dir, dir, { recursive: true });
  return new AuditLog(dir);
}

const lines = (log: AuditLog): string[] =>
  readFileSync(log.file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const posts = (log: AuditLog): PostRecord[] =>
  log.records().filter((r): r is AuditRecord & PostRecord => r.type === 'post');

describe('the audit trail of real checks', () => {
  it('records every command (also refused ones) and every posted step with its evidence, and verifies', () => {
    const records = h.audit.records();
    const commands = records.filter((r) => r.type === 'command');
    assert.deepEqual(
      commands.map((r) => (r.type === 'command' ? r.outcome : '')),
      ['queued', 'queued', 'refused'],
    );
    const refusedCmd = commands[2];
    assert.ok(refusedCmd?.type === 'command');
    assert.match(refusedCmd.reason ?? '', /unknown target "no-such-target"/);
    assert.equal(refusedCmd.user, 'tester');
    const healthy = posts(h.audit).filter((p) => p.checkId === ids[0]);
    assert.deepEqual(
      healthy.map((p) => p.kind + (p.step ?? '')),
      ['step1', 'step2', 'step3', 'final'],
    );
    const step1 = healthy[0];
    assert.ok(step1);
    assert.equal(step1.verdict, 'pass');
    assert.equal(step1.requester, 'console:tester (tester)');
    assert.equal(step1.channel, 'console');
    assert.ok(step1.evidence.some((e) => e.name === 'step1-lb.pcap' && e.bytes > 0));
    assert.ok(step1.commands.some((c) => c.includes('tcpdump -i any')));
    assert.ok(step1.fileIds.length > 0);
    assert.match(step1.worker, /\/default$/);
    assert.equal(healthy[3]?.culprit, 'none');
    assert.equal(posts(h.audit).find((p) => p.checkId === ids[1] && p.kind === 'final')?.culprit, 'path-to-lb');
    const result = verifyAudit(h.audit.file, h.audit.evidence);
    assert.deepEqual(result.problems, []);
    assert.ok(result.evidenceChecked >= 10);
  });

  it('the posted messages quote the evidence sha256 that the archive holds', () => {
    const pcap = posts(h.audit)
      .find((p) => p.checkId === ids[0] && p.step === 1)
      ?.evidence.find((e) => e.name === 'step1-lb.pcap');
    assert.ok(pcap);
    assert.ok(h.output().includes(`sha256:${pcap.sha256.slice(0, 12)}`));
    assert.ok(h.audit.evidence.get(pcap.sha256));
  });
});

describe('tampering is reported as exactly that problem', () => {
  it('an edited verdict', () => {
    const log = copy('edit');
    const all = lines(log);
    const i = all.findIndex((l) => l.includes('"verdict":"pass"'));
    all[i] = (all[i] ?? '').replace('"verdict":"pass"', '"verdict":"fail"');
    writeFileSync(log.file, `${all.join('\n')}\n`);
    const r = verifyAudit(log.file, log.evidence);
    assert.equal(r.problems.length, 1, r.problems.join('\n'));
    assert.match(r.problems[0] ?? '', new RegExp(`^line ${i + 1} \\(record \\d+\\): altered`));
  });

  it('a deleted record', () => {
    const log = copy('delete');
    const all = lines(log);
    all.splice(3, 1);
    writeFileSync(log.file, `${all.join('\n')}\n`);
    const r = verifyAudit(log.file, log.evidence);
    assert.equal(r.problems.length, 1, r.problems.join('\n'));
    assert.match(r.problems[0] ?? '', /^line 4 \(record 5\): does not follow the record before it/);
  });

  it('two records swapped', () => {
    const log = copy('reorder');
    const all = lines(log);
    [all[4], all[5]] = [all[5] ?? '', all[4] ?? ''];
    writeFileSync(log.file, `${all.join('\n')}\n`);
    const r = verifyAudit(log.file, log.evidence);
    assert.equal(r.problems.length, 1, r.problems.join('\n'));
    assert.match(r.problems[0] ?? '', /^line 5 \(record 6\): does not follow/);
  });

  it('a flipped byte in a pcap', () => {
    const log = copy('flip');
    const pcap = posts(log)
      .find((p) => p.step === 1)
      ?.evidence.find((e) => e.name === 'step1-lb.pcap');
    assert.ok(pcap);
    const path = log.evidence.pathOf(pcap.sha256);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    const r = verifyAudit(log.file, log.evidence);
    assert.deepEqual(
      r.problems.map((p) => p.replace(/chk-[0-9a-f]{10}/, 'CHK')),
      [`evidence step1-lb.pcap of CHK (sha256 ${pcap.sha256}) was altered: its bytes no longer match`],
    );
  });

  it('a deleted evidence file', () => {
    const log = copy('missing');
    const decode = posts(log)
      .find((p) => p.step === 2)
      ?.evidence.find((e) => e.name === 'step2-decode.txt');
    assert.ok(decode);
    rmSync(log.evidence.pathOf(decode.sha256));
    const r = verifyAudit(log.file, log.evidence);
    assert.equal(r.problems.length, 1, r.problems.join('\n'));
    assert.match(
      r.problems[0] ?? '',
      /^evidence step2-decode\.txt of chk-[0-9a-f]{10} \(sha256 [0-9a-f]{64}\) is missing/,
    );
  });

  it('a truncated last line', () => {
    const log = copy('truncate');
    const text = readFileSync(log.file, 'utf8');
    writeFileSync(log.file, text.slice(0, text.length - 40));
    const r = verifyAudit(log.file, log.evidence);
    assert.equal(r.problems.length, 1, r.problems.join('\n'));
    assert.match(r.problems[0] ?? '', /^line \d+: torn last line/);
  });

  it('after a crash mid-append, the next append terminates the torn line and the chain continues past it', async () => {
    const log = copy('crash');
    const before = log.records().length;
    appendFileSync(log.file, '{"seq":999,"time":"2026-');
    await log.append({
      type: 'command',
      outcome: 'answered',
      command: 'help',
      platform: 'console',
      user: 'x',
      channel: 'console',
    });
    const r = verifyAudit(log.file, log.evidence);
    assert.equal(r.problems.length, 1, r.problems.join('\n'));
    assert.match(r.problems[0] ?? '', new RegExp(`^line ${before + 1}: not a record`));
    assert.equal(r.records, before + 1);
  });
});

describe('export, concurrency, retention', () => {
  it('an export holds the report, the evidence and the records, verifies on its own, and tar reads it', async () => {
    const archive = exportCheck(h.audit, ids[0] ?? '');
    const file = join(scratch, 'export.tar');
    writeFileSync(file, archive);
    const listing = await runOk(['tar', '-tf', file]);
    for (const part of [
      'audit-records.jsonl',
      'MANIFEST.json',
      'report.json',
      'step1-lb.pcap',
      'step2-decode.txt',
      'step3-commands.txt',
    ])
      assert.ok(listing.includes(part), `${part} missing from:\n${listing}`);
    assert.deepEqual(verifyExport(archive).problems, []);
    const tampered = Buffer.from(archive);
    const at = tampered.indexOf('step1-lb.pcap') + 600;
    tampered[at] = (tampered[at] ?? 0) ^ 0xff;
    assert.equal(verifyExport(tampered).ok, false);
  });

  it('two processes appending at once keep one valid chain', async () => {
    const dir = join(scratch, 'concurrent');
    const script = fileURLToPath(new URL('./append-many.js', import.meta.url));
    const run = (label: string): Promise<number | null> =>
      new Promise((resolve) =>
        spawn(process.execPath, [script, dir, '200', label], { stdio: 'inherit' }).on('exit', resolve),
      );
    assert.deepEqual(await Promise.all([run('a'), run('b')]), [0, 0]);
    const log = new AuditLog(dir);
    const r = verifyAudit(log.file, log.evidence);
    assert.deepEqual(r.problems, []);
    assert.equal(r.records, 400);
    assert.deepEqual(
      log.records().map((x) => x.seq),
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
  });

  it('prune removes old evidence, records what it removed, and verify accepts the pruned files as gone', async () => {
    const log = copy('prune');
    const old = new Date(Date.now() - 100 * 86_400_000);
    const sub = readdirSync(log.evidence.dir)[0] ?? '';
    const victims = readdirSync(join(log.evidence.dir, sub));
    for (const v of victims) utimesSync(join(log.evidence.dir, sub, v), old, old);
    const removed = log.evidence.prune(new Date(Date.now() - 90 * 86_400_000));
    assert.equal(removed.length, victims.length);
    await log.append({ type: 'prune', retentionDays: 90, removed });
    assert.deepEqual(verifyAudit(log.file, log.evidence).problems, []);
  });
});

describe('lbcheck audit (the command line)', () => {
  const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
  const lbcheck = (args: string[]): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, 'audit', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });

  it('verify exits 0 on an intact log and 1 naming the problem on a tampered one; show, list and export work', async () => {
    const good = copy('cli-good');
    const ok = await lbcheck(['verify', '--dir', good.dir]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /^OK: \d+ records chained, \d+ evidence files match/);
    const bad = copy('cli-bad');
    const all = lines(bad);
    all.splice(2, 1);
    writeFileSync(bad.file, `${all.join('\n')}\n`);
    const broken = await lbcheck(['verify', '--dir', bad.dir]);
    assert.equal(broken.code, 1);
    assert.match(broken.out, /PROBLEMS \(1\):\n {2}line 3 \(record 4\): does not follow/);
    const show = await lbcheck(['show', ids[1] ?? '', '--dir', good.dir]);
    assert.equal(show.code, 0);
    assert.match(show.out, /posted final culprit path-to-lb/);
    const list = await lbcheck(['list', '--target', 'no-such-target', '--dir', good.dir]);
    assert.match(list.out, /command refused .*unknown target/);
    const out = join(scratch, 'cli.tar');
    assert.equal((await lbcheck(['export', ids[0] ?? '', '--out', out, '--dir', good.dir])).code, 0);
    const fromArchive = await lbcheck(['verify', '--export', out]);
    assert.equal(fromArchive.code, 0, fromArchive.out);
  });
});
