// Several vantage points at once (issue 17 item 4, the decision only): the
// same VIP checked from a worker in each zone, compared. A path problem that
// shows from one network and not another is localised to that network's path
// ("fails from dc1: the SYN never reaches the LB; works from dc2"), which no
// single vantage can tell apart from a problem at the LB. Pure: reports in,
// one comparison out. The report poster calls it when the last zone of a
// --from command ends (workers/bot/vantage-posting.ts).
import type { Culprit, Diagnosis, Report } from '../../model/report.js';

export interface Vantage {
  zone: string;
  report: Pick<Report, 'steps' | 'diagnosis'>;
}

export interface VantageComparison {
  culprit: Culprit;
  /** The mechanism: `path-from-zones` when only some zones' paths fail, else the zones' common finding. */
  finding?: string;
  summary: string;
  team: string;
  /** Each zone's own conclusion, in the order given. */
  byZone: { zone: string; culprit: Culprit; finding?: string }[];
}

/** Culprits that sit in front of the LB: they can differ between vantage points. */
const BEFORE_LB: readonly Culprit[] = ['path-to-lb', 'impostor'];

const list = (xs: string[]): string =>
  xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;

function inWords(d: Diagnosis): string {
  switch (d.finding) {
    case 'dropped-before-lb':
      return 'the SYN never reaches the LB';
    case 'rejected-before-lb':
      return 'a hop rejects the SYN before the LB';
    case 'impostor':
      return "another device answers in the LB's name";
    case 'mtu-black-hole':
      return 'full-size packets vanish on the way (MTU black hole)';
    default:
      return d.culprit === 'none' ? 'works' : `${d.culprit}${d.finding ? ` (${d.finding})` : ''}`;
  }
}

export function compareVantages(vantages: Vantage[]): VantageComparison {
  if (vantages.length === 0) throw new Error('compareVantages: no vantage point');
  const byZone = vantages.map((v) => ({
    zone: v.zone,
    culprit: v.report.diagnosis.culprit,
    ...(v.report.diagnosis.finding ? { finding: v.report.diagnosis.finding } : {}),
  }));
  const judged = vantages.filter((v) => v.report.diagnosis.culprit !== 'inconclusive');
  const unjudged = vantages.filter((v) => v.report.diagnosis.culprit === 'inconclusive');
  const blocked = unjudged.filter((v) => v.report.diagnosis.finding === 'probe-blocked-here').map((v) => v.zone);
  const other = unjudged.filter((v) => v.report.diagnosis.finding !== 'probe-blocked-here').map((v) => v.zone);
  const caveat =
    (other.length > 0 ? ` No conclusion from ${list(other)} (inconclusive there).` : '') +
    (blocked.length > 0
      ? ` No conclusion from ${list(blocked)}: the probe never left the worker's own host there (its firewall ` +
        'or routing).'
      : '');
  const first = judged[0]?.report.diagnosis ?? vantages[0]?.report.diagnosis;
  if (!first) throw new Error('compareVantages: no diagnosis');
  const culprits = new Set(judged.map((v) => v.report.diagnosis.culprit));
  if (
    judged.length === 0 ||
    (culprits.size === 1 && new Set(judged.map((v) => v.report.diagnosis.finding)).size === 1)
  ) {
    return {
      culprit: first.culprit,
      ...(first.finding ? { finding: first.finding } : {}),
      team: first.team,
      byZone,
      summary: `The same from ${list(judged.map((v) => v.zone))}: ${first.summary}${caveat}`,
    };
  }
  const failing = judged.filter((v) => v.report.diagnosis.culprit !== 'none');
  const working = judged.filter((v) => v.report.diagnosis.culprit === 'none').map((v) => v.zone);
  const story = judged.map((v) => `${inWords(v.report.diagnosis)} from ${v.zone}`).join('; ');
  if (working.length > 0 && failing.every((v) => BEFORE_LB.includes(v.report.diagnosis.culprit))) {
    const zones = list(failing.map((v) => v.zone));
    return {
      culprit: 'path-to-lb',
      finding: 'path-from-zones',
      team: `network / firewall team for ${zones}'s path to the LB`,
      byZone,
      summary:
        `Fails from ${zones}, works from ${list(working)} (${story}): the LB and its servers answer, so ` +
        `the problem is on ${zones}'s path to the LB (a router, firewall or route between that network and the ` +
        `LB).${caveat}`,
    };
  }
  // LB-side culprits differ by vantage: the worst one stands, and that it depends on where one asks from is said.
  const worst = failing[0]?.report.diagnosis ?? first;
  return {
    culprit: worst.culprit,
    ...(worst.finding ? { finding: worst.finding } : {}),
    team: worst.team,
    byZone,
    summary:
      `The vantage points disagree (${story}). ${worst.summary} That it shows only from some networks ` +
      `points at per-source behaviour (a source-based rule, a different member picked, or an intermittent ` +
      `fault).${caveat}`,
  };
}
