// `lbcheck audit ...`: what was posted, by whom, when, and proof that the
// evidence is unaltered.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkpointPolicyFromEnv } from '../audit/audit-config.js';
import { AuditLog } from '../audit/audit-log.js';
import type { AuditRecord, CommandRecord, PostRecord } from '../audit/audit-record.js';
import { exportCheck, recordsOf } from '../audit/export.js';
import { incidentExport } from '../audit/incident-export.js';
import { InputError } from '../errors.js';
import { readConfig } from '../runtime/env-config.js';
import { keygen, verifyCommand } from './audit-anchor-commands.js';
import { CliUsageError } from '../errors.js';
import { AUDIT, commandHelp } from './command-specs.js';
import { parseArgs } from '../runtime/parse-args.js';

const USAGE = commandHelp(AUDIT);

function since(raw: string): Date {
  const m = /^(\d+)([mhd])$/.exec(raw);
  if (m)
    return new Date(Date.now() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']);
  const t = Date.parse(raw);
  if (Number.isNaN(t))
    throw new InputError(`--since ${JSON.stringify(raw)} is neither an ISO time nor a duration like 24h or 7d`);
  return new Date(t);
}

/** `<time> #<seq> command <outcome> · <platform>:<user> in <channel> · "<command>"[ → <checkId>][ · <reason>]`. */
function describeCommand(r: AuditRecord & CommandRecord): string {
  const check = r.checkId ? ` → ${r.checkId}` : '';
  const reason = r.reason ? ` · ${r.reason}` : '';
  const who = `${r.platform}:${r.user} in ${r.channel}`;
  return `${r.time} #${r.seq} command ${r.outcome} · ${who} · "${r.command}"${check}${reason}`;
}

/** One line saying what was posted where, then the summary, evidence and commands indented beneath it. */
function describePost(r: AuditRecord & PostRecord): string {
  const step = r.step ? ` step ${r.step} ${r.verdict?.toUpperCase()}` : '';
  const culprit = r.culprit ? ` culprit ${r.culprit}` : '';
  const thread = r.thread ? `/${r.thread}` : '';
  const messages = r.messageIds.length ? ` · messages ${r.messageIds.join(',')}` : '';
  // A Slack step shared with its files may have no message id: its file ids say which post it was.
  const files = r.fileIds.length ? ` · files ${r.fileIds.join(',')}` : '';
  const what = `${r.time} #${r.seq} posted ${r.kind}${step}${culprit} · ${r.checkId} ${r.target}`;
  const where = `asked by ${r.requester} · ${r.platform}:${r.channel}${thread}${messages}${files}`;
  const evidence = r.evidence.map((e) => `\n    evidence ${e.name} sha256:${e.sha256} ${e.bytes} B`).join('');
  const commands = r.commands.length ? `\n    commands: ${r.commands.join(' ; ')}` : '';
  return `${what} · ${where}\n    ${r.summary}${evidence}${commands}`;
}

function describe(r: AuditRecord): string {
  switch (r.type) {
    case 'command':
      return describeCommand(r);
    case 'post':
      return describePost(r);
    case 'prune':
      return `${r.time} #${r.seq} pruned ${r.removed.length} evidence files older than ${r.retentionDays} days`;
    case 'checkpoint':
      return `${r.time} #${r.seq} checkpoint (${r.reason}): records 1–${r.count} signed by key ${r.keyId}`;
  }
}

type Parsed = ReturnType<typeof parseArgs>;
type One = (name: string) => string | undefined;

function show(log: AuditLog, p: Parsed, json: boolean): number {
  const id = p.positional[0];
  if (!id) throw new CliUsageError('audit show needs a check id', USAGE);
  const records = recordsOf(log, id);
  if (records.length === 0) throw new InputError(`no audit records for ${id} in ${log.file}`);
  console.log(json ? JSON.stringify(records, null, 2) : records.map(describe).join('\n'));
  return 0;
}

/** list's filters: --since, --target (a post's target, or a command's target or first word), --user. */
function listFilter(one: One): (r: AuditRecord) => boolean {
  const from = one('since') ? since(one('since') ?? '') : undefined;
  const target = one('target');
  const user = one('user');
  const ofTarget = (r: AuditRecord): boolean =>
    r.type === 'post'
      ? r.target === target
      : r.type === 'command' && (r.target === target || r.command.split(/\s+/)[0] === target);
  const ofUser = (r: AuditRecord): boolean =>
    r.type === 'command' ? r.user === user : r.type === 'post' && r.requester.split(':')[1]?.split(' ')[0] === user;
  return (r) => !(from && Date.parse(r.time) < from.getTime()) && !(target && !ofTarget(r)) && !(user && !ofUser(r));
}

function list(log: AuditLog, one: One, json: boolean): number {
  const records = log.records().filter(listFilter(one));
  console.log(json ? JSON.stringify(records, null, 2) : records.map(describe).join('\n') || '(no records)');
  return 0;
}

async function exportOne(log: AuditLog, p: Parsed, one: One): Promise<number> {
  const id = p.positional[0];
  if (!id) throw new CliUsageError('audit export needs a check id', USAGE);
  const out = one('out') ?? `${id}.tar`;
  // Refused before anything is written: a failed export leaves no checkpoint behind.
  if (recordsOf(log, id).length === 0) throw new InputError(`no audit records for ${id} in ${log.file}`);
  const checkpoint = await log.checkpoint('export');
  const signer = log.checkpoints?.signer;
  writeFileSync(out, exportCheck(log, id, signer ? { signer, ...(checkpoint ? { checkpoint } : {}) } : undefined));
  console.log(
    signer
      ? `wrote ${out} (signed with key ${signer.keyId}; checkpoint at record ${checkpoint?.seq ?? '?'})`
      : `wrote ${out} (not signed: LBCHECK_AUDIT_SIGNING_KEY is not set)`,
  );
  return 0;
}

/** --incident: incident.md and the page set in a folder (default incident-<first id>). */
function exportIncident(log: AuditLog, p: Parsed, one: One): number {
  const ids = p.positional;
  if (ids.length === 0) throw new CliUsageError('audit export --incident needs thread or check ids', USAGE);
  for (const id of ids)
    if (!/^[A-Za-z0-9:;.=@_-]{1,200}$/.test(id))
      throw new InputError(`${JSON.stringify(id)} is not a thread or check id`);
  const incident = incidentExport(log, ids);
  if (incident.checks.length === 0)
    throw new InputError(`no check was posted in a thread of ${ids.join(', ')} (audit log ${log.file})`);
  const out = one('out') ?? `incident-${(ids[0] ?? '').replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  for (const f of incident.files) {
    mkdirSync(dirname(join(out, f.path)), { recursive: true });
    writeFileSync(join(out, f.path), f.data);
  }
  writeFileSync(join(out, 'incident.md'), incident.markdown);
  const missing = incident.missing.length > 0 ? `; ${incident.missing.length} evidence files already pruned` : '';
  console.log(
    `wrote ${join(out, 'incident.md')}: ${incident.checks.length} checks, ${incident.files.length} files${missing}`,
  );
  return 0;
}

async function prune(log: AuditLog, one: One, retentionDays: number): Promise<number> {
  const days = one('days') ? Number(one('days')) : retentionDays;
  if (!Number.isInteger(days) || days < 1) throw new InputError(`--days must be a whole number of days, at least 1`);
  const removed = log.evidence.prune(new Date(Date.now() - days * 86_400_000));
  await log.append({ type: 'prune', retentionDays: days, removed });
  console.log(`pruned ${removed.length} evidence files older than ${days} days (recorded in the audit log)`);
  return 0;
}

async function checkpointNow(log: AuditLog): Promise<number> {
  if (!log.checkpoints) throw new InputError('LBCHECK_AUDIT_SIGNING_KEY is not set: there is no key to sign with');
  const cp = await log.checkpoint('manual');
  console.log(cp ? `checkpoint at record ${cp.seq}: records 1–${cp.count}, key ${cp.keyId}` : 'the log is empty');
  return 0;
}

export async function auditMain(args: string[]): Promise<number> {
  if (args.length === 0) {
    console.log(USAGE);
    return 2;
  }
  const [sub, ...rest] = args;
  const p = parseArgs(rest, AUDIT.options, USAGE);
  const one: One = (n) => p.flags.get(n)?.[0];
  const config = readConfig();
  const log = new AuditLog(one('dir') ?? config.auditDir, checkpointPolicyFromEnv(process.env));
  const json = p.bools.has('json');
  switch (sub) {
    case 'show':
      return show(log, p, json);
    case 'list':
      return list(log, one, json);
    case 'verify':
      return verifyCommand(log, one, json);
    case 'export':
      return p.bools.has('incident') ? exportIncident(log, p, one) : exportOne(log, p, one);
    case 'checkpoint':
      return checkpointNow(log);
    case 'keygen':
      return keygen(one('out') ?? 'lbcheck-audit');
    case 'prune':
      return prune(log, one, config.retentionDays);
    default:
      throw new CliUsageError(`unknown audit subcommand "${sub}"`, USAGE);
  }
}
