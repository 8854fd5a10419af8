// `lbcheck audit export --incident <thread or check ids>`: one Markdown document
// for a postmortem, from the audit log alone: the timeline of the checks,
// re-runs and watch rounds posted in those threads, who asked, how the culprit
// changed between checks of one target (with what changed, report-diff.ts),
// the ladder of each step as an image, and every evidence file with its sha256;
// beside it the HTML page set (<check id>/check.html and every file of the
// check under its own name), so each page's relative links work offline.
// Pure over the log's records and evidence: a chat command can call
// incidentExport(log, ids) and post or upload what it returns.
import { CHECK_ID } from '../model/check-id.js';
import { isSafeEvidenceName } from '../model/evidence.js';
import type { Report } from '../model/report.js';
import { diffReports } from '../checklist/decide/report-diff.js';
import type { AuditRecord, CommandRecord, PostRecord } from './audit-record.js';
import { conversationOf } from './check-files.js';
import type { EvidenceStore } from './evidence-store.js';

type Post = AuditRecord & PostRecord;
type Command = AuditRecord & CommandRecord;

export interface IncidentExport {
  /** incident.md */
  markdown: string;
  /** The page set and images, by relative path (<check id>/<name>). */
  files: { path: string; data: Buffer }[];
  /** The checks the incident holds, oldest first. */
  checks: string[];
  /** Evidence named by a record whose bytes are no longer stored (pruned). */
  missing: string[];
}

export interface IncidentSource {
  records(): readonly AuditRecord[];
  readonly evidence: Pick<EvidenceStore, 'get'>;
}

const isPost = (r: AuditRecord): r is Post => r.type === 'post';

/** The threads the ids name: a check id stands for every thread it was posted in; anything else is a thread. */
function threadsOf(posts: readonly Post[], ids: readonly string[]): Set<string> {
  const keys = new Set<string>();
  for (const id of ids)
    for (const p of posts)
      if ((CHECK_ID.test(id) ? p.checkId === id : p.thread === id) && conversationOf(p))
        keys.add(conversationOf(p) ?? '');
  return keys;
}

/** The checks posted in the ids' threads, oldest first, each with its first post: no evidence is read. */
export function incidentChecks(records: readonly AuditRecord[], ids: readonly string[]): Map<string, PostRecord> {
  const posts = records.filter(isPost).sort((a, b) => a.seq - b.seq);
  const threads = threadsOf(posts, ids);
  const checks = new Map<string, PostRecord>();
  for (const p of posts) if (threads.has(conversationOf(p) ?? '') && !checks.has(p.checkId)) checks.set(p.checkId, p);
  return checks;
}

function reportOf(posts: readonly Post[], checkId: string, source: IncidentSource): Report | undefined {
  const final = posts.find((p) => p.checkId === checkId && p.kind === 'final');
  const entry = final?.evidence.find((e) => e.name === 'report.json');
  const data = entry ? source.evidence.get(entry.sha256) : undefined;
  try {
    return data ? (JSON.parse(data.toString('utf8')) as Report) : undefined;
  } catch {
    return undefined;
  }
}

const line = (p: Post): string => {
  const what = p.step ? `step ${p.step} ${(p.verdict ?? '').toUpperCase()}` : p.kind;
  const culprit = p.culprit ? ` · culprit **${p.culprit}**` : '';
  return `| ${p.time} | \`${p.checkId}\` | ${what}${culprit} | ${cell(p.summary)} |`;
};

/**
 * Text that quotes what servers wrote (a status line in a summary), in a table cell, prose or an image's alt text:
 * on one line, every Markdown punctuation character that could start a link, an image, emphasis, code, a heading,
 * strikethrough or a new cell backslash-escaped, and no HTML. "](https://attacker/x.png)" in a summary can then
 * neither end an alt text early (re-pointing the image) nor form a link.
 */
const cell = (text: string): string =>
  text
    .replace(/[\n\r]+/g, ' ')
    .replace(/[\\`*_[\]()!#~|]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');

/**
 * A code span holding text as typed (a user's command): backslash escapes do not work inside code, so the span's
 * backtick fence is longer than any run of backticks in the text (CommonMark), and padded with a space when the
 * text starts or ends with a backtick. On one line: a line break could end the table row or paragraph around it.
 */
function codeSpan(text: string): string {
  const inner = text.replace(/[\n\r]+/g, ' ');
  const longest = Math.max(0, ...(inner.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = inner.startsWith('`') || inner.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${inner}${pad}${fence}`;
}

function whoAsked(checkId: string, commands: readonly Command[], posts: readonly Post[]): string {
  const c = commands.find((r) => r.checkId === checkId && r.outcome === 'queued');
  if (c?.alert) return `the alert ${cell(c.alert.name)}`;
  if (c) return `${c.platform}:${c.user}${c.userName ? ` (${cell(c.userName)})` : ''}: ${codeSpan(c.command)}`;
  return cell(posts.find((p) => p.checkId === checkId)?.requester ?? 'unknown');
}

/** Culprit changes between consecutive checks of one target, with what changed. */
function changes(checks: readonly string[], reports: ReadonlyMap<string, Report>): string[] {
  const out: string[] = [];
  const lastOf = new Map<string, Report>();
  for (const id of checks) {
    const r = reports.get(id);
    if (!r) continue;
    const key = `${r.target.vip}:${r.target.port}`;
    const before = lastOf.get(key);
    lastOf.set(key, r);
    if (!before) continue;
    const diff = diffReports(before, r);
    const culprit =
      before.diagnosis.culprit === r.diagnosis.culprit
        ? `culprit unchanged (${r.diagnosis.culprit})`
        : `culprit ${before.diagnosis.culprit} → ${r.diagnosis.culprit}`;
    out.push(`- \`${before.id}\` → \`${r.id}\`: ${culprit}`, ...diff.changes.map((c) => `  - ${cell(c)}`));
  }
  return out;
}

function checkSection(id: string, posts: readonly Post[], files: Map<string, Buffer>, asked: string): string[] {
  const mine = posts.filter((p) => p.checkId === id);
  const final = mine.find((p) => p.kind === 'final');
  const out = [`### ${id}`, '', `Target ${codeSpan(mine[0]?.target ?? '?')}, asked by ${asked}.`];
  if (final) out.push(`Diagnosis: **${final.culprit ?? '?'}**: ${cell(final.summary)}`);
  if (files.has(`${id}/check.html`)) out.push(`Evidence page: [${id}/check.html](${id}/check.html)`);
  out.push('');
  for (const p of mine.filter((x) => x.kind === 'step')) {
    const png =
      p.evidence.find((e) => e.name.endsWith('-ladder.png')) ?? p.evidence.find((e) => e.name.endsWith('-ladder.svg'));
    if (png && files.has(`${id}/${png.name}`))
      out.push(`![Ladder of step ${p.step} of ${id}: ${cell(p.summary)}](${id}/${png.name})`, '');
  }
  out.push('| file | bytes | sha256 |', '| --- | --- | --- |');
  const seen = new Set<string>();
  for (const p of mine)
    for (const e of p.evidence)
      if (!seen.has(e.name)) {
        seen.add(e.name);
        const cut = e.truncatedFrom ? ` (cut from ${e.truncatedFrom})` : '';
        out.push(`| ${cell(e.name)} | ${e.bytes}${cut} | \`${e.sha256}\` |`);
      }
  return [...out, ''];
}

export function incidentExport(source: IncidentSource, ids: readonly string[]): IncidentExport {
  const records = source.records();
  const allPosts = records.filter(isPost);
  const threads = threadsOf(allPosts, ids);
  const posts = allPosts.filter((p) => threads.has(conversationOf(p) ?? '')).sort((a, b) => a.seq - b.seq);
  const checks = [...new Set(posts.map((p) => p.checkId))];
  const commands = records.filter((r): r is Command => r.type === 'command');
  const files = new Map<string, Buffer>();
  const missing: string[] = [];
  for (const p of posts)
    for (const e of p.evidence) {
      const path = `${p.checkId}/${e.name}`;
      if (!isSafeEvidenceName(e.name) || files.has(path)) continue;
      const data = source.evidence.get(e.sha256);
      if (data) files.set(path, data);
      else missing.push(`${path} (${e.sha256})`);
    }
  const reports = new Map(
    checks.flatMap((id) => {
      const r = reportOf(posts, id, source);
      return r ? [[id, r] as const] : [];
    }),
  );
  const markdown = [
    `# Incident: ${checks.length} check${checks.length === 1 ? '' : 's'} (${ids.map((i) => cell(i)).join(', ')})`,
    '',
    `Exported from the audit log; every file below is named by the sha256 its audit record holds.`,
    '',
    '## Timeline',
    '',
    '| time | check | post | summary |',
    '| --- | --- | --- | --- |',
    ...posts.filter((p) => p.kind !== 'step' && p.kind !== 'queued').map(line),
    '',
    '## Culprit changes',
    '',
    ...(changes(checks, reports).length > 0 ? changes(checks, reports) : ['No target was checked twice.']),
    '',
    '## Checks',
    '',
    ...checks.flatMap((id) => checkSection(id, posts, files, whoAsked(id, commands, posts))),
    ...(missing.length > 0 ? ['## Missing evidence', '', ...missing.map((m) => `- ${m}`), ''] : []),
  ].join('\n');
  return { markdown, files: [...files].map(([path, data]) => ({ path, data })), checks, missing };
}
