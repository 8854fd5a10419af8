// `lbcheck sudoers`: prints the script that gives a `sudo: true` LB account of
// the inventory exactly what lbcheck runs as root there, and nothing more: two
// fixed helpers and the sudoers rule naming them (docs/lb-access.md).
import { ConfigError } from '../errors.js';
import { CliUsageError } from '../errors.js';
import { commandHelp, SUDOERS } from './command-specs.js';
import { parseArgs } from '../runtime/parse-args.js';

const USAGE = commandHelp(SUDOERS);

export async function sudoersMain(args: string[]): Promise<number> {
  const p = parseArgs(args, SUDOERS.options, USAGE);
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
