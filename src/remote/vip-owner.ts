// Which node of an HA group holds the VIP address: `ip -o addr show` over the
// check's SSH session, read beside the capture start. A fixed command with no
// user input: the VIP is looked for in the output, never passed to the LB.
import type { SshSession } from './ssh-session.js';

export const ADDRESSES_ARGV = ['ip', '-o', 'addr', 'show'] as const;

/** Parses `ip -o addr` lines: "1: lo    inet 198.18.2.1/32 scope global lo ..." into the addresses, without prefix. */
export function parseIpAddr(text: string): string[] {
  const addresses: string[] = [];
  for (const line of text.split('\n')) {
    const m = /\sinet6?\s+([0-9a-fA-F.:]+)(?:\/\d+)?\s/.exec(line);
    if (m?.[1]) addresses.push(m[1]);
  }
  return addresses;
}

/** true/false when the node listed its addresses; otherwise why they could not be read. */
export async function readVipOwnership(
  session: SshSession,
  vip: string,
  timeoutMs = 5000,
): Promise<{ ownsVip: boolean } | { error: string }> {
  const r = await session.run(ADDRESSES_ARGV, timeoutMs);
  if (r.timedOut) return { error: `\`ip -o addr show\` did not finish within ${timeoutMs} ms` };
  if (r.code !== 0)
    return { error: `\`ip -o addr show\` failed (exit ${String(r.code)}): ${r.stderr.trim().slice(0, 200)}` };
  return { ownsVip: parseIpAddr(r.stdout).includes(vip) };
}
