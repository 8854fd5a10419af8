// PipelineState in process memory, for the embedded single-process mode when
// no Redis is available. Same semantics as RedisState, minus persistence:
// the same expiries, history cap and in-flight sweep (test/pipeline/
// state-contract.test.ts runs one suite against both).
import { ExpiringMap } from './expiring-map.js';
import {
  DEFAULT_STATE_LIMITS,
  dueAt,
  isLive,
  LOST_IN_FLIGHT_ERROR,
  SWEEP_BATCH,
  type LostCheckHandler,
  type PipelineState,
  type StateLimits,
} from './state.js';
import type { CheckRecord, CheckRequest, CheckStatus, StepDigest } from '../model/jobs.js';

type RecordPatch = Partial<Pick<CheckRecord, 'worker' | 'culprit' | 'diagnosis' | 'error' | 'parentMessage'>> & {
  status?: CheckStatus;
};

const ENDED: ReadonlySet<CheckStatus> = new Set(['done', 'failed', 'cancelled']);

export class MemoryState implements PipelineState {
  private readonly records = new ExpiringMap<CheckRecord>();
  /** Check ids, oldest first: all, and per target. */
  private readonly order: string[] = [];
  private readonly orderByTarget = new Map<string, string[]>();
  /** In-flight ids per target, each with when it becomes overdue (ms): what inFlightCount reads, not the records. */
  private readonly inflight = new Map<string, Map<string, number>>();
  private readonly cancels = new ExpiringMap<string>();
  private readonly posted = new ExpiringMap<number>();
  private readonly postedReports = new ExpiringMap<true>();
  private readonly evidence = new ExpiringMap<Buffer>();
  private readonly captures = new Map<string, Map<string, number>>();
  private readonly memos = new ExpiringMap<string>();
  private readonly rates = new ExpiringMap<number>();
  private readonly claims = new ExpiringMap<true>();

  constructor(
    private readonly limits: StateLimits = DEFAULT_STATE_LIMITS,
    private readonly onLost?: LostCheckHandler,
  ) {}

  private get recordTtlMs(): number {
    return this.limits.recordTtlSeconds * 1000;
  }

  createCheck(request: CheckRequest): Promise<void> {
    const { checkId, target } = request;
    this.records.set(
      checkId,
      { request, status: 'queued', updatedAt: new Date().toISOString(), steps: [] },
      this.recordTtlMs,
    );
    this.remember(this.order, checkId);
    const perTarget = this.orderByTarget.get(target) ?? [];
    this.orderByTarget.set(target, perTarget);
    this.remember(perTarget, checkId);
    this.inflightOf(target).set(checkId, dueAt(Date.now(), this.limits));
    return Promise.resolve();
  }

  /** Appends to a history list, dropping the oldest beyond the cap (Redis: ZREMRANGEBYRANK). */
  private remember(list: string[], id: string): void {
    list.push(id);
    if (list.length > this.limits.historyMax) list.splice(0, list.length - this.limits.historyMax);
  }

  private inflightOf(target: string): Map<string, number> {
    let entries = this.inflight.get(target);
    if (!entries) this.inflight.set(target, (entries = new Map<string, number>()));
    return entries;
  }

  discardCheck(request: CheckRequest): Promise<void> {
    this.records.delete(request.checkId);
    for (const list of [this.order, this.orderByTarget.get(request.target) ?? []]) {
      const i = list.lastIndexOf(request.checkId);
      if (i >= 0) list.splice(i, 1);
    }
    this.inflight.get(request.target)?.delete(request.checkId);
    return Promise.resolve();
  }

  getCheck(id: string): Promise<CheckRecord | undefined> {
    const r = this.records.get(id);
    return Promise.resolve(r ? structuredClone(r) : undefined);
  }

  updateCheck(id: string, patch: RecordPatch): Promise<void> {
    const r = this.records.get(id);
    if (r) {
      Object.assign(r, patch, { updatedAt: new Date().toISOString() });
      if (patch.status && ENDED.has(patch.status)) this.inflight.get(r.request.target)?.delete(id);
    }
    return Promise.resolve();
  }

  addStep(id: string, step: StepDigest): Promise<void> {
    const r = this.records.get(id);
    if (r) {
      r.steps = [...r.steps.filter((s) => s.step !== step.step), step].sort((a, b) => a.step - b.step);
      r.updatedAt = new Date().toISOString();
    }
    return Promise.resolve();
  }

  history(target: string | undefined, limit: number): Promise<CheckRecord[]> {
    const ids = target === undefined ? this.order : (this.orderByTarget.get(target) ?? []);
    const out: CheckRecord[] = [];
    for (let i = ids.length - 1; i >= 0 && out.length < limit; i--) {
      const r = this.records.get(ids[i] as string);
      if (r) out.push(structuredClone(r));
    }
    return Promise.resolve(out);
  }

  async inFlight(): Promise<CheckRecord[]> {
    const live: CheckRecord[] = [];
    for (const target of [...this.inflight.keys()])
      live.push(...(await this.sweep(target, [...(this.inflight.get(target)?.keys() ?? [])])));
    live.sort((a, b) => a.request.requestedAt.localeCompare(b.request.requestedAt));
    return live;
  }

  async inFlightCount(target: string): Promise<number> {
    const now = Date.now();
    const overdue: string[] = [];
    for (const [id, due] of this.inflight.get(target) ?? [])
      if (due <= now && overdue.length < SWEEP_BATCH) overdue.push(id);
    if (overdue.length > 0) await this.sweep(target, overdue, true);
    let count = 0;
    for (const due of this.inflight.get(target)?.values() ?? []) if (due > now) count++;
    return count;
  }

  /**
   * The live records among these in-flight ids of a target; expired, ended or stale ones leave the set, and
   * stale ones are marked failed and handed to onLost. rescore (a count's overdue ids): a live one's due time is
   * set again from its last progress, as RedisState does.
   */
  private async sweep(target: string, ids: string[], rescore = false): Promise<CheckRecord[]> {
    const entries = this.inflight.get(target);
    if (!entries) return [];
    const live: CheckRecord[] = [];
    const now = Date.now();
    for (const id of ids) {
      const r = this.records.get(id);
      if (r && isLive(r, now, this.limits.staleInFlightMs)) {
        live.push(structuredClone(r));
        if (rescore && entries.has(id)) entries.set(id, dueAt(Date.parse(r.updatedAt), this.limits));
        continue;
      }
      entries.delete(id);
      if (r && (r.status === 'queued' || r.status === 'running')) {
        Object.assign(r, { status: 'failed', error: LOST_IN_FLIGHT_ERROR, updatedAt: new Date().toISOString() });
        await this.onLost?.(structuredClone(r));
      }
    }
    if (entries.size === 0) this.inflight.delete(target);
    return live;
  }

  requestCancel(id: string, by: string): Promise<void> {
    this.cancels.set(id, by, this.limits.cancelTtlSeconds * 1000);
    return Promise.resolve();
  }

  cancelRequestedBy(id: string): Promise<string | undefined> {
    return Promise.resolve(this.cancels.get(id));
  }

  lastPosted(id: string): Promise<number> {
    return Promise.resolve(this.posted.get(id) ?? 0);
  }

  wasPosted(reportId: string): Promise<boolean> {
    return Promise.resolve(this.postedReports.has(reportId));
  }

  markPosted(checkId: string, reportId: string, seq: number): Promise<boolean> {
    if (this.postedReports.has(reportId)) return Promise.resolve(false);
    this.postedReports.set(reportId, true, this.recordTtlMs);
    const cursor = this.posted.get(checkId) ?? 0;
    if (seq > cursor) this.posted.set(checkId, seq, this.recordTtlMs);
    return Promise.resolve(true);
  }

  putEvidence(sha256: string, data: Buffer, ttlSeconds: number): Promise<void> {
    this.evidence.set(sha256, data, ttlSeconds * 1000);
    return Promise.resolve();
  }

  getEvidence(sha256: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.evidence.get(sha256));
  }

  tryAcquireCapture(lb: string, holder: string, limit: number, leaseMs: number): Promise<boolean> {
    const holders = this.captures.get(lb) ?? new Map<string, number>();
    this.captures.set(lb, holders);
    const now = Date.now();
    for (const [h, until] of holders) if (until <= now) holders.delete(h);
    if (!holders.has(holder) && holders.size >= limit) return Promise.resolve(false);
    holders.set(holder, now + leaseMs);
    return Promise.resolve(true);
  }

  releaseCapture(lb: string, holder: string): Promise<void> {
    const holders = this.captures.get(lb);
    holders?.delete(holder);
    if (holders?.size === 0) this.captures.delete(lb);
    return Promise.resolve();
  }

  captureHolders(lb: string): Promise<number> {
    const now = Date.now();
    return Promise.resolve([...(this.captures.get(lb)?.values() ?? [])].filter((u) => u > now).length);
  }

  getMemo(checkId: string, key: string): Promise<string | undefined> {
    return Promise.resolve(this.memos.get(`${checkId}\n${key}`));
  }

  setMemo(checkId: string, key: string, value: string): Promise<void> {
    this.memos.set(`${checkId}\n${key}`, value, this.recordTtlMs);
    return Promise.resolve();
  }

  hit(key: string, windowSeconds: number): Promise<number> {
    const k = `${key}:${Math.floor(Date.now() / 1000 / windowSeconds)}`;
    const n = (this.rates.get(k) ?? 0) + 1;
    // Kept for two windows, as Redis does.
    this.rates.set(k, n, windowSeconds * 2000);
    return Promise.resolve(n);
  }

  releaseClaim(key: string): Promise<void> {
    this.claims.delete(key);
    return Promise.resolve();
  }

  claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.claims.has(key)) return Promise.resolve(false);
    this.claims.set(key, true, ttlSeconds * 1000);
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
