// One lab per test file, set up and torn down the same way everywhere: the node:test hooks the lab tests all
// wrote by hand. Called at the top of a test file (or of a describe), before its tests.
import { after, afterEach, before } from 'node:test';
import { startLab, waitHealthy, type Lab, type LabOptions } from './lab.js';

interface Closeable {
  close(): Promise<void> | void;
}

export interface UseLabOptions extends LabOptions {
  /** After each test: undo every fault it switched on and wait until every VIP serves again (bounded). */
  heal?: boolean;
  /** After each test, before the faults are undone: put back what a test changed on the file's stacks. */
  reset?: () => void;
}

/**
 * Registers the hooks: before the tests, a new lab, then `setUp` on it (start a chat stack, a harness, a worker
 * and keep them in the file's variables); after each test, `reset` and (with `heal`) every fault undone; after
 * the tests, whatever `setUp` passed to `own` closed (last started, first closed) and the lab torn down, even
 * when a step before failed.
 *
 *     let lab: Lab;
 *     let stack: SlackStack;
 *     useLab({ serverCount: 2, heal: true }, async (started, own) => {
 *       lab = started;
 *       stack = own(await startSlackStack(lab, true));
 *     });
 */
export function useLab(
  options: UseLabOptions = {},
  setUp?: (lab: Lab, own: <T extends Closeable>(closeable: T) => T) => Promise<void> | void,
): void {
  const { heal, reset, ...labOptions } = options;
  let lab: Lab | undefined;
  const owned: Closeable[] = [];
  const own = <T extends Closeable>(closeable: T): T => {
    owned.push(closeable);
    return closeable;
  };
  before(async () => {
    lab = await startLab(labOptions);
    await setUp?.(lab, own);
  });
  after(async () => {
    let failed: Error | undefined;
    for (const closeable of owned.splice(0).reverse())
      await Promise.resolve(closeable.close()).catch((err: unknown) => {
        failed ??= err instanceof Error ? err : new Error(`closing a lab stack failed: ${String(err)}`);
      });
    lab?.teardown();
    if (failed) throw failed;
  });
  if (heal || reset)
    afterEach(async () => {
      reset?.();
      if (!heal || !lab) return;
      await lab.faults.clear();
      await waitHealthy(lab);
    });
}
