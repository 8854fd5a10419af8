// The alert that started a check: carried by the check's request, shown in its thread, kept in the audit.

/**
 * The requester platform of a check an alert asked for: the policy names an alert source as it names a user
 * (alert:alertmanager, alert:generic), so who may start checks by alert is configuration like any principal.
 */
export const ALERT_PRINCIPAL_PLATFORM = 'alert';

/** Enough to name the alert in the thread and to find it at its source (src/alerts). */
export interface AlertTrigger {
  /** Which receiver path it came in on: 'alertmanager' or 'generic'. */
  source: string;
  /** The alert's name (Alertmanager's alertname label, or the generic form's title). */
  name: string;
  /** Alertmanager's groupKey, or the generic form's dedupKey: the same group keeps one thread. */
  groupKey: string;
  /** The fingerprints of the alerts of the group that named this target (at most a few). */
  fingerprints: string[];
  /** Where the alert came from (Alertmanager's generatorURL), shown as plain text, never markup. */
  url?: string;
}
