// Issue 28's chat figure, one procedure for every platform: with the platform's fake answering every call after
// `ms` (a real API's round trip from a data centre), warm checks of the healthy haproxy-http VIP, one at a time,
// timed from the command to step 1 and to the diagnosis where the user reads them; p50 beside the targets. Every
// wait is bounded: a post that never comes fails the bench with what was awaited, it does not hang it.
import { line, median } from './stats.js';

/** What one command's answer looks like where the user reads it (a Slack thread, a Teams reply chain). */
export interface ChatReplies {
  step1(): boolean;
  diagnosis(): boolean;
  /** Nothing of the check is still being posted (e.g. the parent message or the ack card updated). */
  ended(): boolean;
  /** What has been posted so far, for the error when a wait runs out. */
  describe(): string;
}

/** A platform's chat path as the bench drives it. */
export interface ChatPath {
  /** e.g. "fake Slack", "fake Bot Connector". */
  fake: string;
  /** e.g. "in the thread", "in the reply chain". */
  where: string;
  /** Every call to the fake (and upload) answered after this long; 0 restores it. */
  setLatency(ms: number): void;
  /** Sends `check haproxy-http` as a user would; resolves once the platform has the command's immediate answer. */
  command(): Promise<ChatReplies>;
}

/** How long one check may take to reach each point before the bench gives up on it (a loaded 2-core machine). */
const WAIT_MS = { command: 15_000, step1: 30_000, diagnosis: 30_000, ended: 15_000 };

async function within<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: ${what()} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `done` every 2 ms; past `ms`, fails with what was awaited. */
export async function waitUntil(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`bench: ${what()} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The figures of `checks` warm checks (one more first, to warm the SSH session), printed beside issue 28's targets. */
export async function chatLatency(path: ChatPath, ms: number, checks = 20): Promise<string[]> {
  const toStep1: number[] = [];
  const toDiagnosis: number[] = [];
  path.setLatency(ms);
  try {
    for (let i = 0; i <= checks; i++) {
      const t = performance.now();
      const replies = await within(path.command(), WAIT_MS.command, () => `check ${i}: the command's answer`);
      const about = (point: string) => (): string => `check ${i}: ${point} (posted so far: ${replies.describe()})`;
      await waitUntil(() => replies.step1(), WAIT_MS.step1, about(`step 1 ${path.where}`));
      const step1 = performance.now() - t;
      await waitUntil(() => replies.diagnosis(), WAIT_MS.diagnosis, about(`the diagnosis ${path.where}`));
      if (i > 0) {
        toStep1.push(step1);
        toDiagnosis.push(performance.now() - t);
      }
      // The next check starts once this one posts nothing more, so each is timed alone.
      await waitUntil(() => replies.ended(), WAIT_MS.ended, about('the end of its posting'));
    }
  } finally {
    path.setLatency(0);
  }
  const s1 = median(toStep1);
  const d = median(toDiagnosis);
  const label = (to: string): string =>
    `${path.fake} +${ms} ms per call: command → ${to} ${path.where}, p50 of ${checks}`;
  return [
    line(label('step 1'), `${Math.round(s1)} ms`, '≤ 350 ms', s1 <= 350),
    line(label('diagnosis'), `${Math.round(d)} ms`, '≤ 700 ms', d <= 700),
  ];
}
