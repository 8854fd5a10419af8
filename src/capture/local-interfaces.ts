// The probing host's interface names for the ifindexes its capture recorded
// (tcpdump -i any writes only the index), so its side of the merged pcapng
// reads "probe:eth0" as the LB's side reads "lb:eth1". Read from sysfs, only
// for the indexes seen: a host running many namespaces has hundreds of links.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function localInterfaceNames(indexes: Iterable<number>, sysfs = '/sys/class/net'): Record<string, string> {
  const wanted = new Set(indexes);
  const names: Record<string, string> = {};
  if (wanted.size === 0) return names;
  let entries: string[];
  try {
    entries = readdirSync(sysfs);
  } catch {
    return names; // not Linux, or no sysfs: the evidence names them ifN
  }
  for (const name of entries) {
    try {
      const index = Number(readFileSync(join(sysfs, name, 'ifindex'), 'utf8').trim());
      if (wanted.has(index)) names[String(index)] = name;
    } catch {
      // gone meanwhile (a namespace torn down): skip it
    }
    if (Object.keys(names).length === wanted.size) break;
  }
  return names;
}
