// The lab LB's access for its unprivileged account, installed as an LB owner
// does: the install script `lbcheck sudoers` prints (helpers and the sudoers
// rule), run as root on the LB over SSH, as a lab fault so clear() takes it
// away again. Or, for the tests of what sudo refuses, any sudoers lines.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HelperGrants } from '../../src/remote/lb-helpers.js';
import { lbAccessInstallScript } from '../../src/remote/sudo.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import type { Undo } from '../lab/faults.js';
import type { Lab } from '../lab/lab.js';
import { labFiles } from '../lab/lab.js';
import { haproxyLevelSocket, haproxySocket } from '../lab/lb-configs.js';
import { LAB_SUDO_USER, labSudoers } from '../lab/sshd.js';
import { labLbAccess } from './lab-target.js';

export function setLabSudoRules(lab: Lab, rules: string[]): void {
  const sudo = lab.sshd?.sudo;
  if (!sudo) throw new Error('the lab LB has no unprivileged account');
  // Written in place: the LB's sshd sees this file through a bind mount of its inode.
  writeFileSync(sudo.sudoersFile, labSudoers(sudo.logFile, rules));
}

/** What the lab's account is granted: the capture on any, the views of the lab's VIPs (and the level sockets). */
export function labGrants(lab: Lab, parts: { capture?: boolean; views?: boolean } = {}): HelperGrants {
  const views = parts.views !== false;
  const http = haproxySocket(lab.dir, 'http');
  return {
    captureInterfaces: parts.capture === false ? [] : ['any'],
    haproxySockets: views
      ? [http, haproxySocket(lab.dir, 'tcp'), haproxyLevelSocket(http, 'user'), haproxyLevelSocket(http, 'admin')]
      : [],
    nginxConfigs: views ? [labFiles(lab).nginxConf] : [],
    iptables: views,
  };
}

/** Runs an install script as root on the lab LB (in the sshd's mount namespace, where the helpers go). */
export async function runAsLbRoot(
  lab: Lab,
  script: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const session = await SshSession.open(labLbAccess(lab));
  try {
    return await session.run(['bash', '-c', script], 20_000);
  } finally {
    session.close();
  }
}

/** Removes what the install script installed (helpers, the rule file) and the test's own rules. */
export function removeLbAccess(lab: Lab): void {
  const sudo = lab.sshd?.sudo;
  if (!sudo) return;
  setLabSudoRules(lab, []);
  for (const d of [sudo.helperDir, sudo.sudoersDir])
    for (const f of readdirSync(d)) rmSync(join(d, f), { force: true });
}

/** Installs lbcheck's access with the printed install script (all of it, or without the capture or the views). */
export function allowLbcheckSudo(lab: Lab, parts: { capture?: boolean; views?: boolean } = {}): Promise<Undo> {
  return lab.faults.register(
    'sudo-rules',
    async () => {
      const script = lbAccessInstallScript({
        user: LAB_SUDO_USER,
        loadBalancers: ['lab-lb'],
        grants: labGrants(lab, parts),
      });
      const r = await runAsLbRoot(lab, script);
      if (r.code !== 0) throw new Error(`the install script failed (${r.code}): ${r.stderr}`);
    },
    () => Promise.resolve(removeLbAccess(lab)),
  );
}
