// What lbcheck says about alerts in a check's thread. Alert text is the sender's: adapters escape it like any
// server-supplied text.
import type { AlertTrigger } from '../model/alert-trigger.js';

const SOURCE_NAMES: Record<string, string> = { alertmanager: 'Alertmanager', generic: 'an alert webhook' };

export const sourceName = (source: string): string => SOURCE_NAMES[source] ?? source;

/** The line a check started by an alert shows first: which alert, from where, and the link back to it. */
export function triggerText(t: AlertTrigger): string {
  return `Started by alert ${t.name} from ${sourceName(t.source)}${t.url ? ` · ${t.url}` : ''}`;
}

export function resolvedText(t: AlertTrigger, endsAt: string | undefined, recheck: boolean): string {
  const when = endsAt && !endsAt.startsWith('0001-') ? ` at ${endsAt}` : '';
  return (
    `Alert ${t.name} resolved${when} (${sourceName(t.source)}).` +
    (recheck ? ' Checking again to confirm: the result follows in this thread.' : '')
  );
}

export function stormText(cap: number, since: Date): string {
  return (
    `Alert storm: more than ${cap} alerts in a minute for this channel. From ${since.toISOString()} until the ` +
    `minute ends, further alerts start no check here; each one is recorded in the audit log (collapsed).`
  );
}
