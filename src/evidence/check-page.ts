// One self-contained HTML page per check (check.html beside its evidence): the
// steps and verdicts, the diagnosis, each ladder, the decode, the facts, every
// file with its size and sha256 and a relative link, the re-runs of the same
// target with what changed, and a paragraph for the team that owns the fault.
// No scripts, no external assets (the ladders are data: images, so an SVG can
// run nothing), and every piece of text (much of it server-supplied: status
// lines, headers, certificate names) is escaped: it is never markup.
import { hostPort } from '../model/endpoint-text.js';
import type { Report, Step, Verdict } from '../model/report.js';
import { diffReports } from '../checklist/decide/report-diff.js';

export const CHECK_PAGE_NAME = 'check.html';

/** A file of the check, bytes included where the page shows them (ladder SVG, decode). */
export interface PageFile {
  name: string;
  sha256: string;
  bytes: number;
  mediaType: string;
  data?: Buffer;
}

/** An earlier check of the same target, with the relative link to its page. */
export interface PageRerun {
  report: Report;
  href: string;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = escapeHtml;

/** Verdict colours on white: each passes WCAG AA (4.5:1) for normal text; the page's test computes it. */
export const VERDICT_COLOURS: Record<Verdict, string> = {
  pass: '#1a6b2f',
  fail: '#b3261e',
  warn: '#8a5300',
  skipped: '#555555',
  inconclusive: '#6b4c00',
};

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;color:#111;background:#fff;margin:2em auto;max-width:64em;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
.verdict{font-weight:700;text-transform:uppercase}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.6em;overflow-x:auto;white-space:pre-wrap;font-size:12px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
code,.hash{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
img{max-width:100%;height:auto;border:1px solid #ddd}
@media print{body{margin:0;max-width:none}section.step{break-inside:avoid-page}a{color:#111}pre{white-space:pre-wrap}}
`;

function verdictSpan(v: Verdict): string {
  return `<span class="verdict" style="color:${VERDICT_COLOURS[v]}">${e(v)}</span>`;
}

/** The step's own fields (outcome, mode, members...) as a table: everything but what the page shows elsewhere. */
function factsTable(step: Step): string {
  const skip = new Set(['step', 'name', 'verdict', 'summary', 'evidence', 'ms']);
  const rows = Object.entries(step)
    .filter(([k, v]) => !skip.has(k) && v !== undefined)
    .map(([k, v]) => `<tr><th scope="row">${e(k)}</th><td><code>${e(JSON.stringify(v))}</code></td></tr>`);
  rows.push(`<tr><th scope="row">ms</th><td>${step.ms}</td></tr>`);
  return `<table><caption>Facts of step ${step.step}</caption>${rows.join('')}</table>`;
}

function stepSection(step: Step, files: ReadonlyMap<string, PageFile>): string {
  const svg = files.get(`step${step.step}-ladder.svg`);
  const decode = files.get(`step${step.step}-decode.txt`);
  const alt = e(`Ladder diagram of step ${step.step}: ${step.summary}`);
  const caption = `Ladder of step ${step.step} (client | LB | servers; dashed: a packet that never came)`;
  const ladder = svg?.data
    ? `<figure><img src="data:image/svg+xml;base64,${svg.data.toString('base64')}" alt="${alt}">` +
      `<figcaption>${caption}</figcaption></figure>`
    : '';
  return [
    `<section class="step" id="step${step.step}">`,
    `<h2>Step ${step.step}: ${e(step.name)} — ${verdictSpan(step.verdict)}</h2>`,
    `<p>${e(step.summary)}</p>`,
    ladder,
    decode?.data ? `<h3>Decode</h3><pre>${e(decode.data.toString('utf8'))}</pre>` : '',
    `<h3>Facts</h3>${factsTable(step)}`,
    '</section>',
  ].join('\n');
}

function filesTable(files: readonly PageFile[]): string {
  const rows = files.map(
    (f) =>
      `<tr><td><a href="./${encodeURIComponent(f.name)}">${e(f.name)}</a></td><td>${f.bytes}</td>` +
      `<td class="hash">${e(f.sha256)}</td><td>${e(f.mediaType)}</td></tr>`,
  );
  return (
    '<table><caption>Every file of this check</caption><thead><tr><th scope="col">File</th>' +
    '<th scope="col">Bytes</th><th scope="col">sha256</th><th scope="col">Type</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

/** What the packets show, in words the owning team can check against the files. */
export function owningTeamParagraph(report: Report): string {
  const d = report.diagnosis;
  const names = report.steps.flatMap((s) => s.evidence.map((x) => x.name));
  const both = names.find((n) => n.endsWith('-both.pcapng'));
  const captures = names.filter((n) => /\.pcapng$/.test(n) && !n.endsWith('-both.pcapng'));
  const reach = report.steps.find((s) => s.step === 1);
  const syn =
    reach?.name === 'reach' && reach.lbSawSyn === false
      ? 'The LB captured no packet of the probe while the probe sent its SYN: the packets were lost before the LB. '
      : reach?.name === 'reach' && reach.lbSawSyn === true
        ? "The LB's capture holds the probe's SYN: the connection reached the LB. "
        : '';
  const files = both
    ? `Open ${both} first: it holds the probing host's and the LB's packets side by side, one interface per vantage. `
    : '';
  const each =
    captures.length > 0
      ? `Each capture is also kept on its own (${captures.join(', ')}), with its filter, window and the ` +
        "kernel's counts as comments. "
      : '';
  return `For ${d.team}: ${d.summary} ${syn}${files}${each}Every file's sha256 is listed below and in the audit log.`;
}

function rerunsSection(report: Report, reruns: readonly PageRerun[]): string {
  if (reruns.length === 0) return '<p>No other check of this target is in this archive.</p>';
  const items = reruns.map((r) => {
    const [older, newer] = r.report.startedAt <= report.startedAt ? [r.report, report] : [report, r.report];
    const diff = diffReports(older, newer);
    return (
      `<li><a href="${e(r.href)}">${e(r.report.id)}</a> (${e(r.report.startedAt)}, culprit ${e(
        r.report.diagnosis.culprit,
      )}): from ${e(older.id)} to ${e(newer.id)}<ul>` +
      `${diff.changes.map((c) => `<li>${e(c)}</li>`).join('')}</ul></li>`
    );
  });
  return `<ul>${items.join('')}</ul>`;
}

export function renderCheckPage(report: Report, files: readonly PageFile[], reruns: readonly PageRerun[] = []): string {
  const byName = new Map(files.map((f) => [f.name, f]));
  const t = report.target;
  const target = `${hostPort(t.vip, t.port)}${t.lb ? ` via ${t.lb}` : ''}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No scripts, no fetches: the page works offline and cannot be made to run anything.
    '<meta http-equiv="Content-Security-Policy" ' +
      `content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
    `<title>${e(`lbcheck ${report.id}: ${target}`)}</title><style>${STYLE}</style></head><body>`,
    `<h1>Check ${e(report.id)}: ${e(target)}</h1>`,
    `<p>Started ${e(report.startedAt)}, finished ${e(report.finishedAt)}.</p>`,
    `<section id="diagnosis"><h2>Diagnosis: ${e(report.diagnosis.culprit)}</h2>`,
    `<p>${e(report.diagnosis.summary)}</p><p>Hand to: <strong>${e(report.diagnosis.team)}</strong></p>`,
    `<h3>For the owning team</h3><p id="owning-team">${e(owningTeamParagraph(report))}</p></section>`,
    `<section id="steps"><h2>Steps</h2><ol>${report.steps
      .map((s) => `<li><a href="#step${s.step}">Step ${s.step} ${e(s.name)}</a>: ${verdictSpan(s.verdict)}</li>`)
      .join('')}</ol></section>`,
    ...report.steps.map((s) => stepSection(s, byName)),
    `<section id="files"><h2>Files</h2>${filesTable(files)}</section>`,
    `<section id="reruns"><h2>Other checks of this target</h2>${rerunsSection(report, reruns)}</section>`,
    '</body></html>',
    '',
  ].join('\n');
}
