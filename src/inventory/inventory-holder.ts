// The inventory (and its policy) as the running bot sees it: reloaded when the
// file changes, without a restart. A broken edit keeps the last good version
// and is logged with its line numbers.
import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '../log.js';
import { policyWarnings } from '../policy/load-policy.js';
import type { Inventory } from './inventory-types.js';
import { loadInventory } from './load-inventory.js';

export class InventoryHolder {
  private inventory: Inventory;
  /** Incremented on every successful reload. */
  version = 1;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {
    this.inventory = loadInventory(file);
  }

  get current(): Inventory {
    return this.inventory;
  }

  /** Polls the file (works across editors that replace it) and reloads on change. */
  watch(intervalMs = 500): this {
    watchFile(this.file, { interval: intervalMs }, (now, before) => {
      if (now.mtimeMs === before.mtimeMs && now.size === before.size) return;
      this.reload();
    });
    return this;
  }

  reload(): void {
    try {
      this.inventory = loadInventory(this.file);
      this.version++;
      this.log.log('info', 'inventory reloaded', {
        file: this.file,
        version: this.version,
        targets: this.inventory.vips.size,
        warnings: policyWarnings(this.inventory.policy),
      });
    } catch (err) {
      this.log.log('error', 'inventory edit rejected; keeping the previous version', {
        file: this.file,
        error: (err as Error).message,
      });
    }
  }

  close(): void {
    unwatchFile(this.file);
  }
}
