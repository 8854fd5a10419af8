// What travels through the queues. Job data holds what the user asked for,
// never resolved secrets: SSH keys stay on the worker that reads the inventory.
import type { AlertTrigger } from './alert-trigger.js';
import type { Report, Step } from './report.js';

export type { AlertTrigger };

export interface Requester {
  platform: string;
  /** Platform user id (Slack U…, Teams AAD object id, console login). */
  id: string;
  name?: string;
  /** Groups the platform says the user is in (Slack user groups, Teams team ids), for policy rules. */
  groups?: string[];
}

export interface ReplyTo {
  platform: string;
  /** Channel / conversation id. */
  channel: string;
  /** Thread / reply-chain id, once the parent message exists. */
  thread?: string;
  /** Opaque platform data the adapter needs to post (e.g. a Teams conversation reference). */
  extra?: Record<string, unknown>;
}

export interface CheckRequest {
  checkId: string;
  target: string;
  members: string[];
  all: boolean;
  requester: Requester;
  replyTo: ReplyTo;
  zone: string;
  requestedAt: string;
  /** The check this one re-runs (a button, a watch): its diagnosis says what changed since that one. */
  rerunOf?: string;
  /** A round of a watch: after the first, only a changed diagnosis is posted. */
  watch?: { id: string; round: number };
  /** Set when one command checks the VIP from several zones at once (`--from`): the checks share it. */
  group?: VantageGroup;
  /** Set when an alert started the check, not a person: shown with the check and kept in the audit. */
  trigger?: AlertTrigger;
}

/** The checks one `--from` command queued, one per zone, posted under one parent and compared at the end. */
export interface VantageGroup {
  /** grp-<10 hex>: keys the group's shared post memo (the parent message, the comparison). */
  id: string;
  /** Every zone of the group, in the order the checks were queued; the first one's posts open the thread. */
  zones: string[];
}

export type CheckStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface StepDigest {
  step: number;
  name: string;
  verdict: string;
  summary: string;
}

export interface CheckRecord {
  request: CheckRequest;
  status: CheckStatus;
  updatedAt: string;
  worker?: string;
  steps: StepDigest[];
  culprit?: string;
  diagnosis?: string;
  error?: string;
  /** Where the parent message was posted (platform message id). */
  parentMessage?: string;
}

export interface EvidenceMeta {
  name: string;
  sha256: string;
  bytes: number;
  mediaType: string;
  /** Set when the bytes were larger than the cap and were cut. */
  truncatedFrom?: number;
}

interface ReportBase {
  checkId: string;
  /**
   * Post order within a check: a report is posted once every report with a
   * lower seq from the same run has been (steps 1, 2, 3, then the final one).
   */
  seq: number;
  request: CheckRequest;
  worker: string;
}

export type ReportJob =
  | (ReportBase & { kind: 'step'; step: Step; evidence: EvidenceMeta[] })
  | (ReportBase & { kind: 'final'; report: Report })
  /** Posted at once when the check is queued, so the channel sees the check before step 1 ends. */
  | (ReportBase & { kind: 'queued' })
  /** stopped: the worker's account of what the cancel stopped (absent from older workers: then nothing is claimed). */
  | (ReportBase & { kind: 'cancelled'; by: string; stopped?: string })
  /** After a cancel whose captures or probes were still stopping: when they stopped. */
  | (ReportBase & { kind: 'stopped'; text: string })
  | (ReportBase & { kind: 'error'; message: string })
  /** A watch's own line (changed, ended, cancelled), posted in the thread of the watch's check; n keeps them apart. */
  | (ReportBase & { kind: 'watch'; text: string; n: string })
  /** A line about the alert that started the check (resolved, a storm collapsed), posted in its thread. */
  | (ReportBase & { kind: 'alert'; text: string; n: string })
  /** The worker running the check was lost (killed, host gone); the queue retries the check. */
  | (ReportBase & { kind: 'lost'; lostWorker?: string });

/** Idempotent id: a re-run of the same check cannot post the same step twice. */
export function reportJobId(r: ReportJob): string {
  // BullMQ forbids ":" in custom job ids, hence "-".
  if (r.kind === 'watch' || r.kind === 'alert') return `${r.checkId}-${r.kind}${r.n}`;
  return r.kind === 'step' ? `${r.checkId}-step${r.step.step}` : `${r.checkId}-${r.kind}`;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A report without the envelope the worker fills in. */
export type ReportPayload = DistributiveOmit<ReportJob, 'seq' | 'checkId' | 'request' | 'worker'> & { seq?: number };
