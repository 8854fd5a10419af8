// Step 3: can the LB reach each real server? Decided from the member probes
// (from the LB over SSH, and directly from the vantage point).
import type { ServersObservation } from './observation.js';
import type { MemberProbe, MemberResult, ServersStep } from './report.js';

export type ServersDecision = Omit<ServersStep, 'evidence'>;

/**
 * A member works when it accepts the connection and, for HTTP, answers with a
 * status below 500. Accepting and never answering (L7TOUT) is not working: it
 * is what a hung application looks like.
 */
export const memberOk = (p: MemberProbe, protocol: 'http' | 'tcp'): boolean =>
  p.outcome === 'connected' && (protocol === 'tcp' || (p.httpStatus !== undefined && p.httpStatus < 500));

function describe(p: MemberProbe): string {
  if (p.outcome === 'not-checked') return 'not checked';
  const status = p.httpStatus !== undefined ? ` HTTP ${p.httpStatus}` : p.detail === 'silent' ? ', no answer' : '';
  const code = p.code ? ` [${p.code}]` : '';
  return `${p.outcome}${status}${p.ms !== undefined ? ` in ${p.ms} ms` : ''}${code}`;
}

function memberLine(m: MemberResult): string {
  const seen = m.source === 'discovered' ? ' (seen in the capture)' : '';
  return `${m.address}${seen}: from the LB ${describe(m.fromLb)}; direct ${describe(m.direct)}`;
}

export function decideServers(obs: ServersObservation, protocol: 'http' | 'tcp'): ServersDecision {
  const { members } = obs;
  const sources = Object.keys(obs.lbSourceAddresses).length > 0 ? { lbSourceAddresses: obs.lbSourceAddresses } : {};
  const base = { step: 3 as const, name: 'servers' as const, members, ms: obs.ms, ...sources };
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
  const partial = onlyDiscovered
    ? ' Members were taken from the capture (the ones the LB used for this probe); any others in its pool were not probed: list the pool in the inventory to check them all.'
    : '';
  if (!obs.lbChecked) {
    const okDirect = members.filter((m) => memberOk(m.direct, protocol)).length;
    return {
      ...base,
      verdict: 'inconclusive',
      summary: `No SSH access to the LB, so only direct probes ran (${okDirect}/${members.length} answer). ${lines}.${partial}`,
    };
  }
  const ok = members.filter((m) => memberOk(m.fromLb, protocol));
  const verdict = ok.length === members.length ? 'pass' : ok.length === 0 ? 'fail' : 'warn';
  const head =
    verdict === 'pass'
      ? `The LB reaches all ${members.length} members.`
      : verdict === 'fail'
        ? `The LB reaches none of the ${members.length} members.`
        : `The LB reaches ${ok.length} of ${members.length} members.`;
  return { ...base, verdict, summary: `${head} ${lines}.${partial}` };
}
