// What an alert source sends, read into one shape. Two forms: Prometheus Alertmanager's webhook (version 4)
// and a small generic JSON form for anything that can forward an incident (PagerDuty or Opsgenie rules, a
// script). Every field is bounded: the text ends up in posts and the audit.
import { createHash } from 'node:crypto';
import { z } from 'zod';

export type AlertSource = 'alertmanager' | 'generic';

export interface IncomingAlert {
  status: 'firing' | 'resolved';
  /** alertname, or the generic form's title. */
  name: string;
  labels: Record<string, string>;
  fingerprint: string;
  /** Where the alert came from (generatorURL): plain text, never markup. */
  url?: string;
  /** When it resolved (Alertmanager's endsAt), for the resolved line. */
  endsAt?: string;
  /** The generic form names its VIP directly. */
  target?: string;
}

export interface AlertNotice {
  source: AlertSource;
  /** Alertmanager's groupKey, or the generic form's dedupKey: one thread per group. */
  groupKey: string;
  alerts: IncomingAlert[];
}

const short = (max: number) => z.string().max(max);
const labelSet = z.record(short(128), short(1024)).refine((l) => Object.keys(l).length <= 64, 'at most 64 labels');

const alertmanagerSchema = z.object({
  version: z.literal('4', { error: 'version must be "4" (Alertmanager webhook format)' }),
  groupKey: short(1000),
  status: z.enum(['firing', 'resolved']),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: labelSet,
        generatorURL: short(2000).optional(),
        endsAt: short(64).optional(),
        fingerprint: z.string().regex(/^[0-9a-f]{1,64}$/, 'fingerprint must be hex'),
      }),
    )
    .max(500),
});

const genericSchema = z.object({
  status: z.enum(['firing', 'resolved'], { error: 'status must be "firing" or "resolved"' }),
  dedupKey: short(200).min(1, 'dedupKey must name the incident (the same key keeps one thread)'),
  title: short(200).min(1),
  target: short(300).optional(),
  labels: labelSet.optional(),
  url: short(2000).optional(),
});

/** A body that is JSON but not the form its path expects: the sender gets the first problems. */
export class AlertPayloadError extends Error {
  override name = 'AlertPayloadError';
}

function problems(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');
}

function fromAlertmanager(body: unknown): AlertNotice {
  const parsed = alertmanagerSchema.safeParse(body);
  if (!parsed.success) throw new AlertPayloadError(`not an Alertmanager webhook (v4): ${problems(parsed.error)}`);
  return {
    source: 'alertmanager',
    groupKey: parsed.data.groupKey,
    alerts: parsed.data.alerts.map((a) => ({
      status: a.status,
      name: a.labels.alertname ?? '(no alertname)',
      labels: a.labels,
      fingerprint: a.fingerprint,
      ...(a.generatorURL ? { url: a.generatorURL } : {}),
      ...(a.endsAt && a.status === 'resolved' ? { endsAt: a.endsAt } : {}),
    })),
  };
}

function fromGeneric(body: unknown): AlertNotice {
  const parsed = genericSchema.safeParse(body);
  if (!parsed.success) throw new AlertPayloadError(`not lbcheck's generic alert form: ${problems(parsed.error)}`);
  const g = parsed.data;
  return {
    source: 'generic',
    groupKey: g.dedupKey,
    alerts: [
      {
        status: g.status,
        name: g.title,
        labels: g.labels ?? {},
        // The form has one alert per incident: its key is its identity.
        fingerprint: createHash('sha256').update(g.dedupKey).digest('hex').slice(0, 16),
        ...(g.target ? { target: g.target } : {}),
        ...(g.url ? { url: g.url } : {}),
      },
    ],
  };
}

export function readAlertNotice(source: AlertSource, body: unknown): AlertNotice {
  return source === 'alertmanager' ? fromAlertmanager(body) : fromGeneric(body);
}
