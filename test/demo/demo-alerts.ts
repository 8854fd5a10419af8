// The demo's `alert <vip>` and `alert <vip> resolved`: a notice in Alertmanager's webhook format, POSTed over
// real HTTP with the receiver's token to the bot's own alert receiver, as a real Alertmanager would. The check
// it starts then appears in the console by itself.
import { randomBytes } from 'node:crypto';
import { handleAlertNotice } from '../../src/alerts/alert-intake.js';
import { startAlertServer, type RunningAlertServer } from '../../src/alerts/alert-server.js';
import type { IntakeDeps, IntakeReply } from '../../src/pipeline/intake.js';

export interface DemoAlerts {
  /** Answers `alert ...` lines; undefined for any other line. */
  command(text: string): Promise<IntakeReply | undefined>;
  close(): Promise<void>;
}

function notice(vip: string, status: 'firing' | 'resolved', round: number): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    version: '4',
    groupKey: `{}:{alertname="LbDown", lbcheck_target="${vip}"}#${round}`,
    truncatedAlerts: 0,
    status,
    receiver: 'lbcheck',
    groupLabels: { alertname: 'LbDown', lbcheck_target: vip },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.demo.invalid',
    alerts: [
      {
        status,
        labels: { alertname: 'LbDown', lbcheck_target: vip, severity: 'page' },
        annotations: { summary: `${vip} is failing its probe` },
        startsAt: now,
        endsAt: status === 'resolved' ? now : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.demo.invalid/graph',
        fingerprint: randomBytes(8).toString('hex'),
      },
    ],
  };
}

function describeOutcomes(outcomes: { kind: string; checkId?: string; why?: string; reason?: string }[]): string {
  return outcomes
    .map((o) =>
      o.kind === 'queued'
        ? `check ${o.checkId} started; its lines follow by themselves`
        : `${o.kind}${(o.why ?? o.reason) ? `: ${o.why ?? o.reason}` : ''}`,
    )
    .join('; ');
}

export async function startDemoAlerts(intake: IntakeDeps): Promise<DemoAlerts> {
  const token = randomBytes(24).toString('hex');
  const server: RunningAlertServer = await startAlertServer({
    host: '127.0.0.1',
    port: 0,
    token,
    handle: (n) => handleAlertNotice(n, intake),
    log: intake.log,
  });
  // One incident per firing: a resolve closes the incident the last firing opened.
  const rounds = new Map<string, number>();
  return {
    async command(text) {
      const words = text.trim().split(/\s+/);
      if (words[0] !== 'alert') return undefined;
      const vip = words[1];
      const resolved = words[2] === 'resolved';
      if (!vip || words.length > 3 || (words[2] !== undefined && !resolved))
        return { kind: 'refused', text: 'usage: alert <vip> (fires LbDown for it) · alert <vip> resolved' };
      const round = (rounds.get(vip) ?? 0) + (resolved ? 0 : 1);
      rounds.set(vip, round);
      const res = await fetch(`${server.url}/alerts/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(notice(vip, resolved ? 'resolved' : 'firing', round)),
      });
      const body = (await res.json()) as { outcomes?: { kind: string }[]; error?: string };
      const what = `Alertmanager-style ${resolved ? 'resolve' : 'alert'} LbDown for ${vip} POSTed to ${server.url}`;
      return res.ok
        ? { kind: 'info', text: `${what}: ${describeOutcomes(body.outcomes ?? [])}` }
        : { kind: 'refused', text: `${what}: HTTP ${res.status} ${body.error ?? ''}` };
    },
    close: () => server.close(),
  };
}
