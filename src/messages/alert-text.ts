// What lbcheck says about alerts in a check's thread. Alert text is the sender's: adapters escape it like any
// server-supplied text.
import type { AlertTrigger } from '../model/alert-trigger.js';

const SOURCE_NAMES: Record<string, string> = { alertmanager: 'Alertmanager', generic: 'an alert webhook' };

export const sourceName = (source: string): string => SOURCE_NAMES[source] ?? source;

/** The line a check started by an alert shows first: which alert, from where, and the link back to it. */
export function triggerText(t: AlertTrigger): string {
  return `Started by alert ${t.name} from ${sourceName(t.source)}${t.url ? ` · ${t.url}` : ''}`;
}

/** What became of the confirming re-check of a resolved alert: not asked for, queued, or refused (and why). */
export type Recheck = { queued: true } | { refused: string } | undefined;

export function resolvedText(t: AlertTrigger, endsAt: string | undefined, recheck: Recheck): string {
  const when = endsAt && !endsAt.startsWith('0001-') ? ` at ${endsAt}` : '';
  const then =
    recheck === undefined
      ? ''
      : 'queued' in recheck
        ? ' Checking again to confirm: the result follows in this thread.'
        : ` Not checked again to confirm: ${recheck.refused}`;
  return `Alert ${t.name} resolved${when} (${sourceName(t.source)}).${then}`;
}

export function stormText(cap: number, since: Date): string {
  return (
    `Alert storm: more than ${cap} alerts in a minute for this channel. From ${since.toISOString()} until the ` +
    `minute ends, further alerts start no check here; each one is recorded in the audit log (collapsed).`
  );
}
