// Step 3: can the LB reach each real server? Every member is probed from
// this machine and from the LB, in parallel.
import { probeDirect, probeFromLb } from '../probe/member-probe.js';
import type { SshSession } from '../remote/ssh-session.js';
import { formatEndpoint } from '../target/endpoint.js';
import type { MemberProbe, MemberResult, ServersStep } from './report.js';

export interface ServersInput {
  members: { host: string; port: number; source: MemberResult['source'] }[];
  protocol: 'http' | 'tcp';
  session: SshSession | undefined;
  timeoutMs: number;
}

export type ServersDecision = Omit<ServersStep, 'evidence' | 'ms'>;

export const memberOk = (p: MemberProbe): boolean =>
  p.outcome === 'connected' && (p.httpStatus === undefined || p.httpStatus < 500);

function describe(p: MemberProbe): string {
  if (p.outcome === 'not-checked') return 'not checked';
  const status = p.httpStatus !== undefined ? ` HTTP ${p.httpStatus}` : '';
  return `${p.outcome}${status}${p.ms !== undefined ? ` in ${p.ms} ms` : ''}`;
}

export async function probeMembers(input: ServersInput): Promise<ServersDecision> {
  const members = await Promise.all(
    input.members.map(async (m): Promise<MemberResult> => {
      const target = { host: m.host, port: m.port, protocol: input.protocol };
      const [direct, fromLb] = await Promise.all([
        probeDirect(target, input.timeoutMs),
        input.session
          ? probeFromLb(input.session, target, input.timeoutMs)
          : Promise.resolve<MemberProbe>({ outcome: 'not-checked', detail: 'no SSH access to the LB' }),
      ]);
      const result: MemberResult = { address: formatEndpoint(m), direct, fromLb, source: m.source };
      const decisive = fromLb.outcome === 'not-checked' ? direct : fromLb;
      if (decisive.httpStatus !== undefined) result.httpStatus = decisive.httpStatus;
      if (decisive.code !== undefined) result.code = decisive.code;
      return result;
    }),
  );
  return decideServers(members, input.session !== undefined);
}

export function decideServers(members: MemberResult[], lbChecked: boolean): ServersDecision {
  const base = { step: 3 as const, name: 'servers' as const, members };
  if (members.length === 0) {
    return {
      ...base,
      verdict: 'skipped',
      summary: 'No pool members known: list them in the inventory or pass --member IP:PORT.',
    };
  }
  const lines = members.map((m) => `${m.address}: from the LB ${describe(m.fromLb)}; direct ${describe(m.direct)}`);
  if (!lbChecked) {
    const okDirect = members.filter((m) => memberOk(m.direct)).length;
    return {
      ...base,
      verdict: 'inconclusive',
      summary: `No SSH access to the LB, so only direct probes ran (${okDirect}/${members.length} answer). ${lines.join('; ')}.`,
    };
  }
  const ok = members.filter((m) => memberOk(m.fromLb));
  const verdict = ok.length === members.length ? 'pass' : ok.length === 0 ? 'fail' : 'warn';
  const head =
    verdict === 'pass'
      ? `The LB reaches all ${members.length} members.`
      : verdict === 'fail'
        ? `The LB reaches none of the ${members.length} members.`
        : `The LB reaches ${ok.length} of ${members.length} members.`;
  return { ...base, verdict, summary: `${head} ${lines.join('; ')}.` };
}
