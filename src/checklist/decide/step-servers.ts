// Step 3: can the LB reach each real server? Decided from the member probes
// (from the LB over SSH, and directly from the vantage point).
import type { LbView } from '../lb-view.js';
import type { ServersObservation } from '../observation.js';
import type { MemberProbe, MemberResult, ServersStep } from '../../model/report.js';
import { bodyCutShort } from '../../probe/http-body.js';
import { bodyNote, slow } from './response-judgement.js';

export type ServersDecision = Omit<ServersStep, 'evidence'>;

/**
 * A member works when it accepts the connection and, for HTTP, answers with a
 * status below 500 and the whole body its head announced. Accepting and never
 * answering (L7TOUT) is not working: it is what a hung application looks like;
 * nor is a head whose body stalls: it is a page that never loads.
 */
export const memberOk = (p: MemberProbe, protocol: 'http' | 'tcp'): boolean =>
  p.outcome === 'connected' &&
  (protocol === 'tcp' || (p.httpStatus !== undefined && p.httpStatus < 500 && !bodyCutShort(p.body)));

function describe(p: MemberProbe): string {
  if (p.outcome === 'not-checked') return 'not checked';
  const status = p.httpStatus !== undefined ? ` HTTP ${p.httpStatus}` : p.detail === 'silent' ? ', no answer' : '';
  const code = p.code ? ` [${p.code}]` : '';
  return `${p.outcome}${status}${p.ms !== undefined ? ` in ${p.ms} ms` : ''}${bodyNote(p.body)}${code}`;
}

/** The HEAD asked from the LB when the full response stalled from there only (observe-servers.ts). */
function smallReply(m: MemberResult): string {
  const p = m.smallReplyFromLb;
  if (!p) return '';
  return p.outcome === 'connected' && p.httpStatus !== undefined && p.body?.end === 'complete'
    ? `; a HEAD request from the LB, whose reply fits in one small segment, got HTTP ${p.httpStatus} whole`
    : `; a HEAD request from the LB did not get a whole reply either (${describe(p)})`;
}

function memberLine(m: MemberResult): string {
  const seen =
    m.source === 'discovered' ? ' (seen in the capture)' : m.source === 'lb-config' ? " (in the LB's pool)" : '';
  const probes = `from the LB ${describe(m.fromLb)}; direct ${describe(m.direct)}`;
  return `${m.address}${seen}: ${probes}${watched(m)}${smallReply(m)}`;
}

/** What the capture on the LB saw while the LB connected to the member once more (observe-servers.ts). */
function watched(m: MemberResult): string {
  const n = m.answersReachLb;
  if (n === undefined) return '';
  return n > 0
    ? `; connecting again, the LB timed out while a capture on it saw ${n} SYN-ACK${n === 1 ? '' : 's'} from ` +
        'the member arrive (its answers reach the LB, and the LB drops them)'
    : '; connecting again, a capture on the LB saw no answer from the member arrive';
}

/** Said when every member came from the capture: the LB may have more than this probe touched. */
const ONLY_DISCOVERED_NOTE =
  ' Members were taken from the capture (the ones the LB used for this probe); ' +
  'any others in its pool were not probed: list the pool in the inventory to check them all.';

/** Without SSH to the LB only the vantage point's own probes of the members ran. */
const directOnlyHead = (okDirect: number, total: number): string =>
  `No SSH access to the LB, so only direct probes ran (${okDirect}/${total} answer).`;

/** "all 3 members", or "its one member". */
const allMembers = (n: number): string => (n === 1 ? 'its one member' : `all ${n} members`);

export function decideServers(obs: ServersObservation, protocol: 'http' | 'tcp'): ServersDecision {
  const { members } = obs;
  const sources = Object.keys(obs.lbSourceAddresses).length > 0 ? { lbSourceAddresses: obs.lbSourceAddresses } : {};
  const agreement = obs.lbView ? compareView(obs.lbView, members, protocol) : [];
  const view = obs.lbView
    ? {
        lbView: {
          source: obs.lbView.source,
          pool: obs.lbView.pool,
          agreement,
          ...(obs.lbView.snat !== undefined ? { snat: obs.lbView.snat } : {}),
          ...(obs.lbView.error ? { error: obs.lbView.error } : {}),
        },
      }
    : {};
  const base = { step: 3 as const, name: 'servers' as const, members, ms: obs.ms, ...sources, ...view };
  const viewText = agreement.length > 0 ? ` ${agreement.join(' ')}` : '';
  if (members.length === 0) {
    return {
      ...base,
      verdict: 'skipped',
      summary:
        'No pool members known and none seen in the capture: list them in the inventory or pass --member IP:PORT.',
    };
  }
  const lines = members.map(memberLine).join('; ');
  const onlyDiscovered = members.every((m) => m.source === 'discovered');
  const partial = onlyDiscovered ? ONLY_DISCOVERED_NOTE : '';
  if (!obs.lbChecked) {
    const okDirect = members.filter((m) => memberOk(m.direct, protocol)).length;
    return {
      ...base,
      verdict: 'inconclusive',
      summary: `${directOnlyHead(okDirect, members.length)} ${lines}.${partial}${viewText}`,
    };
  }
  const ok = members.filter((m) => memberOk(m.fromLb, protocol));
  const slowOnes = ok.filter((m) => slow(m.fromLb.body));
  if (ok.length === members.length && slowOnes.length > 0) {
    // Whole but slow: a warning with the figures (in the member lines), not a fault.
    return {
      ...base,
      verdict: 'warn',
      finding: 'slow-response',
      summary:
        `The LB reaches ${allMembers(members.length)}; ${slowOnes.map((m) => m.address).join(', ')} ` +
        `answer${slowOnes.length === 1 ? 's' : ''} slowly. ${lines}.${partial}${viewText}`,
    };
  }
  const verdict = ok.length === members.length ? 'pass' : ok.length === 0 ? 'fail' : 'warn';
  const head =
    verdict === 'pass'
      ? `The LB reaches ${allMembers(members.length)}.`
      : verdict === 'fail'
        ? `The LB reaches none of the ${members.length} members.`
        : `The LB reaches ${ok.length} of ${members.length} members.`;
  return { ...base, verdict, summary: `${head} ${lines}.${partial}${viewText}` };
}

const HEALTH_CHECK_LAGS = 'the health check tests something else, or it has not caught up.';

const VIEW_NAME = { haproxy: 'HAProxy', iptables: "The LB's DNAT rules", nginx: "nginx's upstream" } as const;

function probeWords(p: MemberProbe): string {
  if (p.outcome === 'connected')
    return p.httpStatus !== undefined
      ? `gets HTTP ${p.httpStatus}`
      : p.detail === 'silent'
        ? 'gets no answer'
        : 'connects';
  return p.outcome === 'refused' ? 'is refused' : p.outcome === 'timeout' ? 'times out' : p.outcome;
}

/** One sentence per member where the LB's own view and the probes can be compared, plus pool differences. */
export function compareView(view: LbView, members: MemberResult[], protocol: 'http' | 'tcp'): string[] {
  if (view.error) return [`The LB's own view could not be read: ${view.error}.`];
  const who = VIEW_NAME[view.source];
  const lines: string[] = view.hidden ? [view.hidden] : [];
  for (const v of view.pool) {
    const m = members.find((x) => v.address !== '' && x.address === v.address);
    if (!m || v.state === undefined) continue;
    const up = v.state === 'UP' || v.state.startsWith('UP');
    const ok = memberOk(m.fromLb, protocol);
    const check = v.check ? ` (${v.check})` : '';
    const ours = `our probe from the LB ${probeWords(m.fromLb)}`;
    if (up === ok) lines.push(`${who} marks ${v.address} ${v.state}${check}; ${ours} too: they agree.`);
    else if (up)
      lines.push(
        `${who} marks ${v.address} ${v.state}${check}, but ${ours}: its health check does not test what clients need.`,
      );
    else lines.push(`${who} marks ${v.address} ${v.state}${check}, yet ${ours}: ${HEALTH_CHECK_LAGS}`);
  }
  const listed = new Set(view.pool.map((v) => v.address));
  const configured = members.filter((m) => m.source === 'configured').map((m) => m.address);
  const extra = [...listed].filter((a) => !configured.includes(a));
  const missing = configured.filter((a) => !listed.has(a));
  // A server the LB names without its address (HAProxy at level user) cannot be told from a member: no pool claim.
  const complete = !listed.has('');
  if (complete && configured.length > 0 && (extra.length > 0 || missing.length > 0)) {
    lines.push(
      `The LB's pool lists ${[...listed].join(', ') || 'nothing'}; the inventory says ${configured.join(', ')}.`,
    );
  }
  if (view.source === 'iptables' && view.snat === false && view.pool.length > 0)
    lines.push(
      "The LB's DNAT rules for the VIP have no SNAT: the servers see the clients' addresses " +
        'and must route their replies back through the LB.',
    );
  return lines;
}
