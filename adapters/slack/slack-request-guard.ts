// Checks Bolt's signature verification leaves out: Bolt refuses requests dated
// more than five minutes in the past but accepts any future date, and accepts
// the same signed request as often as it is sent. Slack's guidance: reject
// timestamps more than five minutes away in either direction; a signature is
// then unique within that window, so remembering it for the window stops replays.

/** Slack's tolerance for x-slack-request-timestamp, in seconds. */
export const SLACK_MAX_SKEW_S = 5 * 60;

/** A request Slack signed, but that must not run: dated in the future, or a replay. */
export class RejectedSlackRequest extends Error {
  override name = 'RejectedSlackRequest';
  // Bolt passes errors with a code through its error handlers unchanged.
  readonly code = 'lbcheck_rejected_slack_request';
}

/** Remembers a key for ttlSeconds; true the first time (shared across bot processes through Redis). */
export type ClaimOnce = (key: string, ttlSeconds: number) => Promise<boolean>;

export interface SlackRequestHeaders {
  slackTimestamp?: string;
  slackSignature?: string;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** For Bolt's customPropertiesExtractor: the two headers the guard needs, read after Bolt verified them. */
export function slackRequestHeaders(headers: Record<string, string | string[] | undefined>): SlackRequestHeaders {
  const slackTimestamp = header(headers['x-slack-request-timestamp']);
  const slackSignature = header(headers['x-slack-signature']);
  return { ...(slackTimestamp ? { slackTimestamp } : {}), ...(slackSignature ? { slackSignature } : {}) };
}

export function inMemoryClaims(): ClaimOnce {
  const until = new Map<string, number>();
  return (key, ttlSeconds) => {
    const now = Date.now();
    for (const [k, t] of until) if (t <= now) until.delete(k);
    if (until.has(key)) return Promise.resolve(false);
    until.set(key, now + ttlSeconds * 1000);
    return Promise.resolve(true);
  };
}

/**
 * Throws RejectedSlackRequest for a request dated more than five minutes
 * ahead or behind, or one whose signature was already seen in the window.
 * `fallback` keeps de-duplicating in this process when the shared store fails.
 */
export async function guardSlackRequest(
  h: SlackRequestHeaders,
  claim: ClaimOnce,
  fallback: ClaimOnce,
  nowMs = Date.now(),
): Promise<void> {
  const ts = Number(h.slackTimestamp);
  if (!Number.isInteger(ts) || Math.abs(nowMs / 1000 - ts) > SLACK_MAX_SKEW_S)
    throw new RejectedSlackRequest(`x-slack-request-timestamp ${String(h.slackTimestamp)} is more than 5 minutes away`);
  if (!h.slackSignature) throw new RejectedSlackRequest('no x-slack-signature');
  // Twice the skew: a signature stays acceptable from ts-5min to ts+5min as seen by any of our clocks.
  const key = `slack-signature:${h.slackSignature}`;
  const first = await claim(key, 2 * SLACK_MAX_SKEW_S).catch(() => fallback(key, 2 * SLACK_MAX_SKEW_S));
  if (!first) throw new RejectedSlackRequest('this signed request was already received (replay)');
}
