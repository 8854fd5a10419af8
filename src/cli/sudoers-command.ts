// `lbcheck sudoers`: prints the sudoers rules each `sudo: true` LB account of
// the inventory needs, and nothing more, for the LB owners to install.
import { ConfigError } from '../errors.js';
import { CliUsageError } from './cli-errors.js';
import { commandHelp, SUDOERS } from './command-specs.js';
import { parseArgs } from './parse-args.js';

const USAGE = commandHelp(SUDOERS);

export async function sudoersMain(args: string[]): Promise<number> {
  const p = parseArgs(args, SUDOERS.options, USAGE);
  if (p.positional.length > 0) throw new CliUsageError(`unexpected ${p.positional.join(' ')}`, USAGE);
  const file = p.flags.get('config')?.[0] ?? process.env.LBCHECK_CONFIG;
  if (!file) throw new CliUsageError('no inventory: pass --config FILE or set LBCHECK_CONFIG', USAGE);
  const [{ loadInventory }, { sudoersForInventory }] = await Promise.all([
    import('../inventory/load-inventory.js'),
    import('../inventory/inventory-sudoers.js'),
  ]);
  const accounts = sudoersForInventory(loadInventory(file));
  if (accounts.length === 0)
    throw new ConfigError(
      `no load balancer in ${file} has sudo: true`,
      'add sudo: true to the entries whose SSH account is not root',
    );
  for (const a of accounts) console.log(`# for ${a.loadBalancers.join(', ')} (account ${a.user})\n${a.snippet}`);
  return 0;
}
