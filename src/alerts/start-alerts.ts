// Starts the alert webhook receiver when LBCHECK_ALERTS_PORT is set, with the bot's own intake behind it.
import type { Logger } from '../log.js';
import type { IntakeDeps } from '../pipeline/intake.js';
import { alertsSettingsSchema, parseEnv, type AlertsSettings } from '../runtime/settings.js';
import { handleAlertNotice } from './alert-intake.js';
import { ALERT_PATHS, startAlertServer, type RunningAlertServer } from './alert-server.js';

export function readAlertsSettings(env: NodeJS.ProcessEnv): AlertsSettings {
  return parseEnv(alertsSettingsSchema, env, 'configuration problems');
}

export async function startAlerts(
  settings: AlertsSettings,
  intake: IntakeDeps,
  log: Logger,
): Promise<RunningAlertServer | undefined> {
  if (settings.LBCHECK_ALERTS_PORT === undefined) return undefined;
  return startAlertServer({
    host: settings.LBCHECK_ALERTS_HOST,
    port: settings.LBCHECK_ALERTS_PORT,
    ...(settings.LBCHECK_ALERTS_TOKEN ? { token: settings.LBCHECK_ALERTS_TOKEN } : {}),
    ...(settings.LBCHECK_ALERTS_HMAC_KEY ? { hmacKey: settings.LBCHECK_ALERTS_HMAC_KEY } : {}),
    handle: (notice) => handleAlertNotice(notice, intake),
    log,
  });
}

/** The startup line: where alert senders post, or how to turn the receiver on. */
export function describeAlerts(running: RunningAlertServer | undefined): string {
  if (!running)
    return 'alerts: no receiver (set LBCHECK_ALERTS_PORT and LBCHECK_ALERTS_TOKEN to start checks by alert)';
  return `alerts: POST ${Object.keys(ALERT_PATHS)
    .map((p) => `${running.url}${p}`)
    .join(' or ')}`;
}
