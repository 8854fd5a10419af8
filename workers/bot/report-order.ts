// A report's turn: every lower seq of its check is posted first. A report that
// arrives while the earlier one is still being handled in this process awaits
// that handling here instead of going back to the queue for a delayed retry
// (100 ms and more a step, issue 28), and goes as soon as the platform took the
// earlier post (its audit record is already asked for, so the audit keeps the
// order); anything else waits in the queue as before.
import type { ReportOutcome } from '../../src/pipeline/job-bus.js';
import type { PipelineState } from '../../src/pipeline/state.js';

/** A report this process is handling now: its handling, and whether the platform took its post already. */
interface Handling {
  done: Promise<ReportOutcome>;
  out: Promise<void>;
  isOut: boolean;
}

/** By `${checkId}#${seq}`: what a later report of the check awaits. */
const handling = new Map<string, Handling>();

/**
 * A report just taken from the queue may not be registered yet (the queue verifies its seal first): how often
 * and how long a later report looks for it before going back to the queue.
 */
const LOOKS = 5;
const LOOK_EVERY_MS = 10;
/** However long an earlier report's post takes, a later one waits at most this long here, then in the queue. */
const MAX_IN_PROCESS_WAIT_MS = 10_000;

const key = (checkId: string, seq: number): string => `${checkId}#${seq}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the handling of report `seq` of `checkId`, visible to the check's later reports while it runs; the
 * handler calls `out()` once the platform took the post and its audit record is asked for.
 */
export async function asHandling(
  checkId: string,
  seq: number,
  handle: (out: () => void) => Promise<ReportOutcome>,
): Promise<ReportOutcome> {
  const k = key(checkId, seq);
  let tell = (): void => undefined;
  const entry: Handling = {
    isOut: false,
    out: new Promise<void>((r) => (tell = r)),
    done: Promise.resolve('later'),
  };
  entry.done = handle(() => {
    entry.isOut = true;
    tell();
  });
  handling.set(k, entry);
  try {
    return await entry.done;
  } finally {
    if (handling.get(k) === entry) handling.delete(k);
  }
}

/**
 * Whether every lower seq of the check is posted, waiting here while the one just before is handled in this
 * process (its post, or its own wait for an earlier one). False: it is not, and not on its way here.
 */
export async function earlierPosted(state: PipelineState, checkId: string, seq: number): Promise<boolean> {
  const deadline = Date.now() + MAX_IN_PROCESS_WAIT_MS;
  let looks = 0;
  while ((await state.lastPosted(checkId)) < seq - 1) {
    const earlier = handling.get(key(checkId, seq - 1));
    const left = deadline - Date.now();
    if (left <= 0) return false;
    if (earlier?.isOut) return true;
    if (earlier) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        earlier.out,
        earlier.done.catch(() => undefined),
        new Promise<void>((r) => (timer = setTimeout(r, left))),
      ]).finally(() => clearTimeout(timer));
      if (earlier.isOut) return true;
      // Handled without being posted (it went back to the queue): this one goes back too.
      if ((await state.lastPosted(checkId)) < seq - 1 && !handling.has(key(checkId, seq - 1))) return false;
    } else if (looks++ < LOOKS) await sleep(LOOK_EVERY_MS);
    else return false;
  }
  return true;
}
