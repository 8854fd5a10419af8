// `lbcheck sudoers`: prints the script that gives a `sudo: true` LB account of
// the inventory exactly what lbcheck runs as root there, and nothing more: two
// fixed helpers and the sudoers rule naming them (docs/lb-access.md).
import { ConfigError } from '../errors.js';
import { CliUsageError } from './cli-errors.js';
import { parseArgs, type FlagSpec } from './parse-args.js';

const FLAGS: FlagSpec[] = [
  { name: 'config', value: 'FILE', help: 'inventory YAML (default $LBCHECK_CONFIG)' },
  { name: 'account', value: 'USER', help: 'the LB account, when the inventory logs in as several' },
];

const USAGE = `Usage: lbcheck sudoers [--config FILE] [--account USER]
  Prints the install script for the load balancers with \`sudo: true\` in the inventory: two helpers
  (/usr/local/sbin/lbcheck-capture, /usr/local/sbin/lbcheck-lb-view) that run the capture and the LB view the
  VIPs ask for after checking their own arguments, and the sudoers rule /etc/sudoers.d/lbcheck that allows
  exactly them. Review it, then run it as root on each LB (e.g. \`lbcheck sudoers > lb-access.sh\`, copy it,
  \`sudo bash lb-access.sh\`). It replaces the rule earlier versions printed, which a crafted argument could
  widen to root. docs/lb-access.md says what each piece allows.`;

export async function sudoersMain(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const p = parseArgs(args, FLAGS, USAGE);
  if (p.positional.length > 0) throw new CliUsageError(`unexpected ${p.positional.join(' ')}`, USAGE);
  const file = p.flags.get('config')?.[0] ?? process.env.LBCHECK_CONFIG;
  if (!file) throw new CliUsageError('no inventory: pass --config FILE or set LBCHECK_CONFIG', USAGE);
  const [{ loadInventory }, { sudoersForInventory }, { lbAccessInstallScript }] = await Promise.all([
    import('../inventory/load-inventory.js'),
    import('../inventory/inventory-sudoers.js'),
    import('../remote/sudo.js'),
  ]);
  const accounts = sudoersForInventory(loadInventory(file));
  if (accounts.length === 0)
    throw new ConfigError(
      `no load balancer in ${file} has sudo: true`,
      'add sudo: true to the entries whose SSH account is not root',
    );
  const wanted = p.flags.get('account')?.[0];
  const chosen = wanted === undefined ? accounts : accounts.filter((a) => a.user === wanted);
  const names = accounts.map((a) => `${a.user} (${a.loadBalancers.join(', ')})`).join('; ');
  if (chosen.length === 0)
    throw new CliUsageError(`no sudo: true LB logs in as ${wanted}; the accounts: ${names}`, USAGE);
  // One script per LB account: each installs the same helper paths and rule file, so two would overwrite each other.
  const [account, ...others] = chosen;
  if (!account || others.length > 0)
    throw new CliUsageError(
      `the inventory logs in to sudo LBs as several accounts: pass --account, one of ${names}`,
      USAGE,
    );
  process.stdout.write(lbAccessInstallScript(account));
  return 0;
}
