// `lbcheck sudoers`: prints the sudoers rules each `sudo: true` LB account of
// the inventory needs, and nothing more, for the LB owners to install.
import { ConfigError } from '../errors.js';
import { CliUsageError } from './cli-errors.js';
import { parseArgs, type FlagSpec } from './parse-args.js';

const FLAGS: FlagSpec[] = [{ name: 'config', value: 'FILE', help: 'inventory YAML (default $LBCHECK_CONFIG)' }];

const USAGE = `Usage: lbcheck sudoers [--config FILE]
  Prints the sudoers rules for every load balancer with \`sudo: true\` in the inventory: exactly the commands
  lbcheck runs there as root (tcpdump, and the LB view the VIPs ask for). Install them with
  \`visudo -f /etc/sudoers.d/lbcheck\` on each LB. The capture rule needs sudo 1.9.10 or later.`;

export async function sudoersMain(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const p = parseArgs(args, FLAGS, USAGE);
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
