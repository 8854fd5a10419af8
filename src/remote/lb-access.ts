// How to reach one load balancer over SSH: what the session pool, the capture hubs and the check share.
import type { HostKeyPins } from './host-keys.js';

export interface LbAccess {
  host: string;
  port: number;
  user: string;
  privateKey: Buffer;
  pins: HostKeyPins & { revoked?: string[] };
  /** Capture interface on the LB ("any" to see client and server side). */
  captureInterface: string;
  label: string;
  /** The account is not root: the capture and the LB's view run through `sudo -n` as fixed helpers (lb-helpers.ts). */
  sudo?: boolean;
  /** Login shells kept waiting for commands (src/remote/warm-channels.ts); 0 for accounts with a forced command. */
  warmChannels?: number;
}
