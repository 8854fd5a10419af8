// A report's turn: every lower seq of its check is posted first. A report that
// arrives while the earlier one is still being handled in this process awaits
// that handling here instead of going back to the queue for a delayed retry
// (100 ms and more a step, issue 28), and goes as soon as the platform took the
// earlier post (its audit record is already asked for, so the audit keeps the
// order); anything else waits in the queue as before.
//
// A report may also go out inside the next one's post (a handover): at its turn
// the last step of a check, when the check's diagnosis is already waiting here,
// offers itself to it, and the diagnosis posts both in one message, one round
// trip fewer on the path people wait on (issue 28). The offer is taken or
// withdrawn at once, never both; a taken one is settled by the diagnosis's post.
import type { ReportJob } from '../../src/model/jobs.js';
import type { ReportOutcome } from '../../src/pipeline/job-bus.js';
import type { EvidenceFile, PostContext } from '../../src/pipeline/poster.js';
import type { PipelineState } from '../../src/pipeline/state.js';
import { LATE, within } from '../../src/runtime/deadline.js';

/** How the next report's post went for a report handed over to it; 'declined': nobody took it, post it yourself. */
export type HandoverOutcome = 'posted' | 'failed' | 'declined';

/** A report offered to the check's next report, to go out in its post. */
export interface Offer {
  readonly report: ReportJob;
  readonly ctx: PostContext;
  readonly evidence: EvidenceFile[];
  state: 'open' | 'taken' | 'withdrawn';
  /** Called by the taker once its post (with this report in it) is out and this report marked, or failed. */
  settle(outcome: 'posted' | 'failed'): void;
}

/** A report this process is handling now: its handling, and whether the platform took its post already. */
interface Handling {
  kind: ReportJob['kind'];
  done: Promise<ReportOutcome>;
  out: Promise<void>;
  isOut: boolean;
  /** This report's offer to the next one, while open or taken. */
  offer?: Offer;
  /** Resolves when an offer is made: the next report, waiting for this one, looks at it then. */
  offered: Promise<void>;
  tellOffered: () => void;
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
/**
 * An offer not taken this soon is withdrawn and the report posts itself. The taker is waiting for this report
 * and takes it in the same turn of the event loop, so this only bounds the case where it went another way.
 */
const OFFER_TAKE_MS = 100;

const key = (checkId: string, seq: number): string => `${checkId}#${seq}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the handling of report `seq` of `checkId`, visible to the check's later reports while it runs; the
 * handler calls `out()` once the platform took the post and its audit record is asked for.
 */
export async function asHandling(
  report: Pick<ReportJob, 'checkId' | 'seq' | 'kind'>,
  handle: (out: () => void) => Promise<ReportOutcome>,
): Promise<ReportOutcome> {
  const k = key(report.checkId, report.seq);
  let tell = (): void => undefined;
  let resolveOffered = (): void => undefined;
  const entry: Handling = {
    kind: report.kind,
    isOut: false,
    out: new Promise<void>((r) => (tell = r)),
    offered: new Promise<void>((r) => (resolveOffered = r)),
    tellOffered: () => resolveOffered(),
    done: Promise.resolve('later'),
  };
  // Visible before the handling starts: what it does before its first await (an offer) finds itself here.
  handling.set(k, entry);
  entry.done = handle(() => {
    entry.isOut = true;
    tell();
  });
  try {
    return await entry.done;
  } finally {
    if (handling.get(k) === entry) handling.delete(k);
  }
}

/** The open offer of a report handled here, now taken by the caller (its next report). */
function take(entry: Handling | undefined): Offer | undefined {
  const offer = entry?.offer;
  if (offer?.state !== 'open') return undefined;
  offer.state = 'taken';
  return offer;
}

/**
 * Whether every lower seq of the check is posted, waiting here while the one just before is handled in this
 * process (its post, or its own wait for an earlier one). False: it is not, and not on its way here. An Offer:
 * the one just before handed itself over; the caller posts it with its own post and settles it.
 */
export async function earlierPosted(state: PipelineState, checkId: string, seq: number): Promise<boolean | Offer> {
  const deadline = Date.now() + MAX_IN_PROCESS_WAIT_MS;
  let looks = 0;
  while ((await state.lastPosted(checkId)) < seq - 1) {
    const earlier = handling.get(key(checkId, seq - 1));
    const left = deadline - Date.now();
    if (left <= 0) return false;
    if (earlier?.isOut) return true;
    const offered = take(earlier);
    if (offered) return offered;
    if (earlier) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        earlier.out,
        earlier.offered,
        earlier.done.catch(() => undefined),
        new Promise<void>((r) => (timer = setTimeout(r, left))),
      ]).finally(() => clearTimeout(timer));
      if (earlier.isOut) return true;
      const offer = take(earlier);
      if (offer) return offer;
      // Handled without being posted (it went back to the queue): this one goes back too.
      if ((await state.lastPosted(checkId)) < seq - 1 && !handling.has(key(checkId, seq - 1))) return false;
    } else if (looks++ < LOOKS) await sleep(LOOK_EVERY_MS);
    else return false;
  }
  return true;
}

/**
 * Offers report `seq` (at its turn, not yet posted) to the check's diagnosis when this process is handling it
 * and it waits for this one: 'posted' when the diagnosis's post carried it (it is audited and marked then),
 * 'failed' when that post failed (both go back to the queue), 'declined' when no diagnosis took it.
 */
export async function handOverToFinal(offer: Pick<Offer, 'report' | 'ctx' | 'evidence'>): Promise<HandoverOutcome> {
  const { checkId, seq } = offer.report;
  const mine = handling.get(key(checkId, seq));
  if (!mine || handling.get(key(checkId, seq + 1))?.kind !== 'final') return 'declined';
  let settle: (outcome: 'posted' | 'failed') => void = () => undefined;
  const settled = new Promise<'posted' | 'failed'>((r) => (settle = r));
  const open: Offer = { ...offer, state: 'open', settle: (outcome) => settle(outcome) };
  mine.offer = open;
  mine.tellOffered();
  const first = await within(settled, OFFER_TAKE_MS);
  if (first !== LATE) return first;
  if (open.state === 'open') {
    open.state = 'withdrawn';
    delete mine.offer;
    return 'declined';
  }
  return settled;
}
