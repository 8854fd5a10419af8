// The LB's interface names by index, read once per check over the check's own
// SSH session, so the decode and the pcapng say "eth0" where tcpdump -i any
// only recorded ifindex 2. A fixed command with no user input.
import type { SshSession } from './ssh-session.js';

export const INTERFACE_NAMES_ARGV = ['ip', '-o', 'link', 'show'] as const;

/**
 * Parses `ip -o link` lines: "2: eth0@if5: <BROADCAST,...> mtu 1500 ...".
 * The "@peer" suffix of veth/vlan devices is not part of the name.
 */
export function parseIpLink(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):\s+([^:@\s]+)(?:@[^:\s]*)?:/.exec(line);
    if (m?.[1] && m[2]) names.set(Number(m[1]), m[2]);
  }
  return names;
}

/** ifindex → name on the LB; an empty map when the LB has no `ip` (the decode then prints ifN). */
export async function readInterfaceNames(session: SshSession, timeoutMs = 5000): Promise<Map<number, string>> {
  const r = await session.run(INTERFACE_NAMES_ARGV, timeoutMs);
  if (r.code !== 0 || r.timedOut) return new Map();
  return parseIpLink(r.stdout);
}
