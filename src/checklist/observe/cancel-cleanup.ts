// What a cancelled check stopped, said only once it is true: each capture or
// probe counts as stopped when its process is gone (the remote shell's `wait`
// returned and the channel closed, or the local child exited), never when the
// stop was merely asked for. A shared capture that other running checks still
// lease is not stopped, and the words say so.
import { CaptureLease, type CheckCapture } from '../../capture/shared-capture.js';

/** Something of the check still running when it was cancelled, and when it is gone. */
export interface StopItem {
  /** E.g. "the capture on the LB (lb1)". */
  what: string;
  /** Settles when its process has exited (the process table no longer lists it). */
  exited: Promise<void>;
}

export interface CancelCleanup {
  /** Gone before the cancel was reported. */
  stopped: string[];
  /** Shared captures left running for other checks: what, and for how many. */
  kept: { what: string; others: number }[];
  /** Not gone within the budget: the follow-up says when they are. */
  stopping: StopItem[];
}

/** What is left to stop of a cancelled check, gathered before waiting. */
export interface CancelStops {
  items: StopItem[];
  kept: CancelCleanup['kept'];
}

/**
 * Stops one capture of a cancelled check. A lease lets go of its shared capture, which is stopped too unless
 * other checks still lease it; a capture of its own is stopped and counted gone when its tcpdump has exited.
 */
export function stopForCancel(capture: CheckCapture | undefined, what: string, into: CancelStops): void {
  if (!capture) return;
  if (capture instanceof CaptureLease) {
    const r = capture.abandon();
    if ('others' in r) into.kept.push({ what, others: r.others });
    else into.items.push({ what, exited: r.exited });
    return;
  }
  const stopping = capture.stop().then(() => undefined);
  into.items.push({
    what,
    exited: capture.done ? Promise.all([stopping, capture.done]).then(() => undefined) : stopping,
  });
}

/** Waits up to budgetMs for every item's process to exit; what is still running is returned as `stopping`. */
export async function stopWithin(
  items: StopItem[],
  kept: CancelCleanup['kept'],
  budgetMs: number,
): Promise<CancelCleanup> {
  const gone = new Set<StopItem>();
  const all = Promise.all(
    items.map((i) =>
      i.exited.then(
        () => void gone.add(i),
        () => void gone.add(i),
      ),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise((r) => (timer = setTimeout(r, budgetMs)))]);
  clearTimeout(timer);
  return {
    stopped: items.filter((i) => gone.has(i)).map((i) => i.what),
    kept,
    stopping: items.filter((i) => !gone.has(i)),
  };
}

const list = (xs: string[]): string =>
  xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1] ?? ''}`;

/**
 * The sentences that follow "Check … was cancelled by …." for a check cancelled while it waited in the queue: on
 * its first attempt nothing had started; waiting to be tried again, an earlier attempt had run (and may have
 * posted steps), and what that attempt left on the LB, if its worker died, ends at the capture's own time bound.
 */
export function notStartedText(attempt: number): string {
  return attempt <= 1
    ? 'Nothing of it had started on the LB or here.'
    : 'It was waiting to be tried again and will not be: nothing of it was running here, and anything an ' +
        "earlier attempt left on the LB ends at that capture's own time bound.";
}

/** The sentences that follow "Check … was cancelled by …." */
export function cleanupText(c: CancelCleanup | undefined): string {
  if (!c) return notStartedText(1);
  const parts: string[] = [];
  if (c.stopped.length > 0)
    parts.push(
      `Stopped before this message (captures gone from the hosts' process tables, probe connections closed): ` +
        `${list(c.stopped)}.`,
    );
  for (const k of c.kept)
    parts.push(
      `${k.what[0]?.toUpperCase() ?? ''}${k.what.slice(1)} is shared with ${k.others} other running ` +
        `check${k.others === 1 ? '' : 's'} of this target and keeps running for ${k.others === 1 ? 'it' : 'them'}; ` +
        `this check's part of it ended.`,
    );
  if (c.stopping.length > 0)
    parts.push(`Still stopping: ${list(c.stopping.map((s) => s.what))}; a follow-up says when it has stopped.`);
  if (parts.length === 0) parts.push('Nothing of it was running on the LB or here.');
  return parts.join(' ');
}

/** The follow-up once everything still stopping has stopped. */
export function stoppedLaterText(checkId: string, items: StopItem[], afterMs: number): string {
  return (
    `Check ${checkId}: ${list(items.map((s) => s.what))} stopped ${(afterMs / 1000).toFixed(1)} s after the ` +
    `cancelled notice (gone from the process table).`
  );
}
