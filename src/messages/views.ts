// The neutral message model: what a step or a diagnosis says, independent of
// how a platform draws it (terminal text, Block Kit, Adaptive Cards).
import type { Report, Step, Verdict } from '../model/report.js';
import type { EvidenceMeta } from '../model/jobs.js';
import type { ReportDiff } from '../checklist/decide/report-diff.js';

export interface Fact {
  label: string;
  value: string;
  /** The value came from the probed server (headers, certificate): platforms show it as code where they can. */
  fromServer?: boolean;
}

export interface MessageView {
  /** e.g. "✔ Step 1 · Does the connection reach the LB? PASS" */
  headline: string;
  verdict: Step['verdict'] | 'diagnosis';
  why: string;
  facts: Fact[];
  /** One line per evidence file, with the short sha256 a reader matches against the archive. */
  evidence: string[];
}

export const VERDICT_SYMBOL: Record<Verdict, string> = {
  pass: '✔',
  fail: '✘',
  warn: '⚠',
  skipped: '–',
  inconclusive: '?',
};

const TITLES = {
  reach: 'Does the connection reach the LB?',
  mode: 'How does the LB handle it?',
  servers: 'Can the LB reach the servers?',
} as const;

export const shortSha = (sha256: string): string => sha256.slice(0, 12);

const yesNo = (b: boolean | null): string => (b === null ? 'unknown' : b ? 'yes' : 'no');

/** An HA group's nodes: which saw the SYN, which hold the VIP, which handled the probe. */
function nodeFacts(step: Extract<Step, { name: 'reach' }>): Fact[] {
  return [
    ...(step.nodes ?? []).map((n) => ({
      label: `Node ${n.name}`,
      value: [
        `saw SYN ${yesNo(n.sawSyn)}`,
        `holds VIP ${yesNo(n.ownsVip)}`,
        ...(n.name === step.handledBy ? ['handled the probe'] : []),
        ...(n.error ? [n.error] : []),
      ].join(' · '),
    })),
    ...(step.finding ? [{ label: 'HA group', value: step.finding }] : []),
  ];
}

/** "refused (ECONNREFUSED) by rst": what the client saw, its errno, and who refused. */
function clientOutcome(step: Extract<Step, { name: 'reach' }>): string {
  const errno = step.errno ? ` (${step.errno})` : '';
  const by = step.refusedBy ? ` by ${step.refusedBy}` : '';
  return `${step.outcome ?? 'n/a'}${errno}${by}`;
}

/** "connected 200": a probe's outcome and its HTTP status when there was one. */
function probeOutcome(p: { outcome: string; httpStatus?: number }): string {
  return `${p.outcome}${p.httpStatus !== undefined ? ` ${p.httpStatus}` : ''}`;
}

/**
 * Who answered the probe's SYN. The LB saw the SYN and answered nothing itself, yet the client connected: the answer
 * came around the LB, from a server directly (direct server return), and "none" would say nobody answered.
 */
function answeredByText(step: Extract<Step, { name: 'reach' }>): string {
  if (step.answeredBy === 'none' && step.outcome === 'connected' && step.lbSawSyn === true)
    return 'a server, directly (DSR: its answer went around the LB)';
  return `${step.answeredBy ?? 'unknown'}${step.answerFrom ? ` (${step.answerFrom})` : ''}`;
}

function stepFacts(step: Step): Fact[] {
  switch (step.name) {
    case 'reach':
      return [
        {
          label: 'Client',
          // A pass with a refusal passed because the LB itself answered: say so, not just "refused".
          value:
            step.verdict === 'pass' && step.outcome === 'refused'
              ? `reached the LB; the LB refused it${step.refusedBy ? ` (${step.refusedBy})` : ''}`
              : clientOutcome(step),
        },
        { label: 'LB saw SYN', value: step.lbSawSyn === null ? 'unknown' : step.lbSawSyn ? 'yes' : 'no' },
        { label: 'Answered by', value: answeredByText(step) },
        ...nodeFacts(step),
      ];
    case 'mode':
      return [
        { label: 'Mode', value: `${step.mode}${step.proxyKind ? ` (${step.proxyKind} proxy)` : ''}` },
        { label: 'GET /', value: `${step.behaviour}${step.httpStatus !== undefined ? ` ${step.httpStatus}` : ''}` },
        ...(step.fingerprint ? [{ label: 'Product', value: step.fingerprint, fromServer: true }] : []),
        ...(step.tls
          ? [
              {
                label: 'TLS',
                value: `${step.tls.protocol} · ${step.tls.subject} · valid to ${step.tls.validTo}`,
                fromServer: true,
              },
            ]
          : []),
      ];
    case 'servers':
      return step.members.map((m) => ({
        label: m.address,
        value: `from LB ${probeOutcome(m.fromLb)}${m.code ? ` [${m.code}]` : ''} · direct ${probeOutcome(m.direct)}`,
      }));
  }
}

export function stepView(step: Step, evidence: readonly EvidenceMeta[]): MessageView {
  return {
    headline: `${VERDICT_SYMBOL[step.verdict]} Step ${step.step} · ${TITLES[step.name]} ${step.verdict.toUpperCase()}`,
    verdict: step.verdict,
    why: step.summary,
    facts: step.verdict === 'skipped' ? [] : stepFacts(step),
    evidence: evidence.map(
      (e) =>
        `${e.name} · sha256:${shortSha(e.sha256)} · ${e.bytes} ` +
        `B${e.truncatedFrom ? ` (truncated from ${e.truncatedFrom} B)` : ''}`,
    ),
  };
}

/** diff: what changed since the previous check of this target in the same thread (a re-run or a watch). */
export function finalView(report: Report, diff?: ReportDiff): MessageView {
  const d = report.diagnosis;
  return {
    // "Diagnosis: NONE" reads as "no diagnosis"; the JSON report keeps culprit "none".
    headline: d.culprit === 'none' ? 'No fault found' : `Diagnosis: ${d.culprit.toUpperCase()}`,
    verdict: 'diagnosis',
    why: d.summary,
    facts: [
      { label: 'Hand to', value: d.team },
      { label: 'Steps', value: report.steps.map((s) => `${s.step} ${VERDICT_SYMBOL[s.verdict]}`).join('  ') },
      ...(d.stoppedAfter
        ? [{ label: 'Stopped', value: `after step ${d.stoppedAfter} (add --all to run every step)` }]
        : []),
      ...(diff ? [{ label: `Since ${diff.since}`, value: diff.changes.join('\n') }] : []),
    ],
    evidence: [],
  };
}

/** A --from check's post names its zone first, so the zones' steps sharing one thread stay apart. */
export function fromZone(view: MessageView, zone: string | undefined): MessageView {
  return zone === undefined ? view : { ...view, headline: `[${zone}] ${view.headline}` };
}
