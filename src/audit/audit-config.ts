// The audit log's checkpoint settings from the environment: the signing key
// (LBCHECK_AUDIT_SIGNING_KEY), how often (LBCHECK_AUDIT_CHECKPOINT_RECORDS /
// _SECONDS) and where copies go (LBCHECK_AUDIT_CHECKPOINT_URL).
import type { Logger } from '../log.js';
import { auditSchema, parseEnv } from '../runtime/settings.js';
import type { CheckpointPolicy } from './audit-log.js';
import { sendCheckpoint } from './checkpoint-webhook.js';
import { loadSigner } from './signing.js';

/** Undefined without a signing key: the log is then hash-chained only (verify says so). */
export function checkpointPolicyFromEnv(env: NodeJS.ProcessEnv, log?: Logger): CheckpointPolicy | undefined {
  const s = parseEnv(auditSchema, env, 'audit configuration');
  if (!s.LBCHECK_AUDIT_SIGNING_KEY) return undefined;
  const url = s.LBCHECK_AUDIT_CHECKPOINT_URL;
  return {
    signer: loadSigner(s.LBCHECK_AUDIT_SIGNING_KEY),
    everyRecords: s.LBCHECK_AUDIT_CHECKPOINT_RECORDS,
    everySeconds: s.LBCHECK_AUDIT_CHECKPOINT_SECONDS,
    onCheckpoint: (cp) => {
      log?.log('info', 'audit checkpoint written', { seq: cp.seq, covers: cp.count, reason: cp.reason });
      if (!url) return undefined;
      // Appends do not wait for this: a slow or failing receiver never holds up the audit log.
      return sendCheckpoint(url, cp).then(
        () => log?.log('info', 'audit checkpoint sent off the machine', { seq: cp.seq }),
        (err: unknown) =>
          log?.log('warn', 'audit checkpoint not sent off the machine', { seq: cp.seq, error: (err as Error).message }),
      );
    },
  };
}
