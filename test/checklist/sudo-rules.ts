// The lab LB's sudoers under test: exactly the rules `lbcheck sudoers` prints
// for the lab (labSudoRules), or a part of them, installed as a lab fault so
// clear() takes them away again.
import { writeFileSync } from 'node:fs';
import type { Undo } from '../lab/faults.js';
import type { Lab } from '../lab/lab.js';
import { labSudoers } from '../lab/sshd.js';
import { labSudoRules } from './lab-target.js';

export function setLabSudoRules(lab: Lab, rules: string[]): void {
  const sudo = lab.sshd?.sudo;
  if (!sudo) throw new Error('the lab LB has no unprivileged account');
  // Written in place: the LB's sshd sees this file through a bind mount of its inode.
  writeFileSync(sudo.sudoersFile, labSudoers(sudo.logFile, rules));
}

/** Installs lbcheck's rules (all of them, or without the capture's or the views'). */
export function allowLbcheckSudo(lab: Lab, parts: { capture?: boolean; views?: boolean } = {}): Promise<Undo> {
  return lab.faults.register(
    'sudo-rules',
    () => Promise.resolve(setLabSudoRules(lab, labSudoRules(lab, parts))),
    () => Promise.resolve(setLabSudoRules(lab, [])),
  );
}
