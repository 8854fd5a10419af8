// Sends each checkpoint off the machine: an HTTP POST of the checkpoint record
// as JSON to LBCHECK_AUDIT_CHECKPOINT_URL. Whoever receives it can later show
// that the log was at least that long with that head (lbcheck audit verify
// --checkpoint FILE), which a local editor cannot undo.
import type { SignedCheckpoint } from './checkpoint.js';

export class CheckpointDeliveryError extends Error {
  override name = 'CheckpointDeliveryError';
}

export async function sendCheckpoint(url: string, checkpoint: SignedCheckpoint, timeoutMs = 5000): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(checkpoint),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new CheckpointDeliveryError(
      `checkpoint ${checkpoint.seq} not delivered to ${new URL(url).host}: ${(err as Error).message}`,
    );
  }
  // The body is not needed; reading it frees the connection.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok)
    throw new CheckpointDeliveryError(
      `checkpoint ${checkpoint.seq} refused by ${new URL(url).host}: HTTP ${response.status}`,
    );
}
