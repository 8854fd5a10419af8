// What the intake takes and answers, apart from the intake itself: the command handlers
// (src/pipeline/handlers/) use these types, and the intake imports the handlers.
import type { AuditLog } from '../audit/audit-log.js';
import type { Inventory } from '../inventory/inventory-types.js';
import type { Logger } from '../log.js';
import type { AlertTrigger, CheckRequest, ReplyTo, Requester } from '../model/jobs.js';
import type { JobBus } from './job-bus.js';
import type { PipelineState } from './state.js';

export interface Incoming {
  requester: Requester;
  replyTo: ReplyTo;
  /** The text after the bot's name or slash command. */
  text: string;
  /** Where this platform shows a check's results, for the ack ("in this reply chain"); "here" when absent. */
  resultsWhere?: string;
  /** Set when the command is a re-run of that check (a button): the new check is compared against it. */
  rerunOf?: string;
  /** What the user did, when not typing (e.g. "button"), for the audit record. */
  via?: string;
  /** Set when a watch queues one of its rounds. */
  watch?: { id: string; round: number };
  /** Set when an alert asks (src/alerts): the check carries it, and the audit record names it. */
  trigger?: AlertTrigger;
  /**
   * Set by an adapter that must answer within a deadline (Slack acks in 3 s): the command's audit record is then
   * handed over as a promise (queued in order, never dropped) instead of awaited before the reply.
   */
  deferAudit?: (written: Promise<void>) => void;
}

/**
 * The intake's answer to a command. `text` is plain text, never markup: it may quote what a server or an LB sent
 * (a step summary holds the server's status line, an error the LB's stderr), so every chat adapter escapes it for
 * its platform (slackEscape, teamsPlain) and no handler may put Slack or Teams markup (links, mentions, emphasis)
 * in it.
 */
export type IntakeReply =
  /** vantages: a --from command's checks, one per zone (request is the first of them). */
  | { kind: 'queued'; text: string; checkId: string; request: CheckRequest; vantages?: CheckRequest[] }
  /**
   * link: a URL the bot made itself (a signed link) that appears verbatim in text; an adapter may show it as a
   * link instead of escaping it (Teams' escapes would break a bare URL holding "_").
   */
  | { kind: 'info'; text: string; link?: string }
  /** error: the command could not be handled (queue unavailable), not refused for what it asked. */
  | { kind: 'refused'; text: string; error?: true };

export interface IntakeDeps {
  state: PipelineState;
  bus: JobBus;
  inventory: () => Inventory | undefined;
  log: Logger;
  /** How users invoke the bot on this platform, for usage lines ("/lbcheck", "@lbcheck"). */
  prefix: string;
  /** Every command, accepted or refused, is recorded here. */
  audit?: AuditLog;
  /**
   * The signed link to the incident export of these thread or check ids, when the evidence pages are served
   * (LBCHECK_EVIDENCE_PORT); unset, `export` answers how to get it on the bot host.
   */
  incidentLink?: (ids: readonly string[]) => string;
  /** TEST ONLY: multiplies a watch's interval and duration (e.g. 0.02: 10s becomes 200 ms). Never set in production. */
  watchTimeScale?: number;
}
