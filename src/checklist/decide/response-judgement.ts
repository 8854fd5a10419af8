// Words and thresholds for a response read to its end (steps 2 and 3): how far a body came, and whether it came
// slowly. Pure.
import type { ProbeBody } from '../../model/report.js';
import { bodyCutShort } from '../../probe/http-body.js';

/** A complete response slower than this (request to last byte) is worth a warning with the figure. */
export const SLOW_RESPONSE_MS = 2000;

const n = (x: number): string => x.toLocaleString('en-US');

/** "2,345 of 4,052 body bytes" / "2,345 body bytes" (no length announced). */
function amount(b: ProbeBody): string {
  return b.expected !== undefined ? `${n(b.bytes)} of ${n(b.expected)} body bytes` : `${n(b.bytes)} body bytes`;
}

/** How a cut-short body ended, in words ("the body stalled after 0 of 4,052 body bytes"). */
export function cutShortWords(b: ProbeBody): string {
  if (b.end === 'stalled') return `the body stalled after ${amount(b)} (nothing more arrived)`;
  if (b.end === 'reset') return `the connection was reset after ${amount(b)}`;
  return `the connection closed after ${amount(b)}, before the body's end`;
}

/** A short note on the body for a member line: empty when it completed without remark. */
export function bodyNote(b: ProbeBody | undefined): string {
  if (!b) return '';
  if (bodyCutShort(b)) return `, but ${cutShortWords(b)}`;
  if (b.end === 'limit') return `, body read to the ${n(b.bytes)}-byte limit and no further`;
  return slow(b) ? `, complete but slow (last byte after ${n(b.lastByteMs)} ms)` : '';
}

/** A complete body whose last byte came after SLOW_RESPONSE_MS. */
export const slow = (b: ProbeBody | undefined): boolean =>
  b !== undefined && b.end === 'complete' && b.lastByteMs > SLOW_RESPONSE_MS;
