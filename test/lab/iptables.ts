// iptables rules as data, so a fault can be applied and undone with the very
// same rule specification.
import { runOk } from './run-command.js';

export interface IptablesRule {
  table: 'filter' | 'nat';
  chain: string;
  spec: string[];
}

export function rule(table: IptablesRule['table'], chain: string, spec: string[]): IptablesRule {
  return { table, chain, spec };
}

export function iptablesArgv(ns: string, action: '-A' | '-I' | '-D', r: IptablesRule): string[] {
  // -w: wait for the xtables lock rather than fail when two rules land at once.
  return ['ip', 'netns', 'exec', ns, 'iptables', '-w', '-t', r.table, action, r.chain, ...r.spec];
}

export async function addRule(ns: string, r: IptablesRule, position: 'append' | 'insert' = 'append'): Promise<void> {
  await runOk(iptablesArgv(ns, position === 'append' ? '-A' : '-I', r));
}

export async function deleteRule(ns: string, r: IptablesRule): Promise<void> {
  await runOk(iptablesArgv(ns, '-D', r));
}

/** A rule in the root namespace (the test process's own host), on the lab's link only: see faults.blockHere. */
export function rootIptablesArgv(action: '-I' | '-D', r: IptablesRule): string[] {
  return ['iptables', '-w', '-t', r.table, action, r.chain, ...r.spec];
}
