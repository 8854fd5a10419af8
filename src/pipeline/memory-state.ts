// PipelineState in process memory, for the embedded single-process mode when
// no Redis is available. Same semantics as RedisState, minus persistence.
import { isLive, type PipelineState } from './state.js';
import type { CheckRecord, CheckRequest, StepDigest } from './types.js';

export class MemoryState implements PipelineState {
  private readonly checks = new Map<string, CheckRecord>();
  private readonly order: string[] = [];
  private readonly cancels = new Map<string, string>();
  private readonly posted = new Map<string, number>();
  private readonly postedReports = new Set<string>();
  private readonly evidence = new Map<string, { data: Buffer; until: number }>();
  private readonly captures = new Map<string, Map<string, number>>();

  createCheck(request: CheckRequest): Promise<void> {
    this.checks.set(request.checkId, { request, status: 'queued', updatedAt: new Date().toISOString(), steps: [] });
    this.order.push(request.checkId);
    return Promise.resolve();
  }

  discardCheck(request: CheckRequest): Promise<void> {
    this.checks.delete(request.checkId);
    const i = this.order.lastIndexOf(request.checkId);
    if (i >= 0) this.order.splice(i, 1);
    return Promise.resolve();
  }

  getCheck(id: string): Promise<CheckRecord | undefined> {
    const r = this.checks.get(id);
    return Promise.resolve(r ? structuredClone(r) : undefined);
  }

  updateCheck(id: string, patch: Partial<CheckRecord>): Promise<void> {
    const r = this.checks.get(id);
    if (r) Object.assign(r, patch, { updatedAt: new Date().toISOString() });
    return Promise.resolve();
  }

  addStep(id: string, step: StepDigest): Promise<void> {
    const r = this.checks.get(id);
    if (r) r.steps = [...r.steps.filter((s) => s.step !== step.step), step].sort((a, b) => a.step - b.step);
    return Promise.resolve();
  }

  history(target: string | undefined, limit: number): Promise<CheckRecord[]> {
    const ids = [...this.order]
      .reverse()
      .filter((id) => target === undefined || this.checks.get(id)?.request.target === target);
    return Promise.resolve(
      ids
        .slice(0, limit)
        .flatMap((id) => (this.checks.has(id) ? [structuredClone(this.checks.get(id) as CheckRecord)] : [])),
    );
  }

  inFlight(): Promise<CheckRecord[]> {
    return Promise.resolve(
      this.order.flatMap((id) => {
        const r = this.checks.get(id);
        return r && isLive(r) ? [structuredClone(r)] : [];
      }),
    );
  }

  inFlightCount(target: string): Promise<number> {
    return this.inFlight().then((list) => list.filter((r) => r.request.target === target).length);
  }

  requestCancel(id: string, by: string): Promise<void> {
    this.cancels.set(id, by);
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
    this.postedReports.add(reportId);
    this.posted.set(checkId, Math.max(seq, this.posted.get(checkId) ?? 0));
    return Promise.resolve(true);
  }

  putEvidence(sha256: string, data: Buffer, ttlSeconds: number): Promise<void> {
    this.evidence.set(sha256, { data, until: Date.now() + ttlSeconds * 1000 });
    return Promise.resolve();
  }

  getEvidence(sha256: string): Promise<Buffer | undefined> {
    const e = this.evidence.get(sha256);
    return Promise.resolve(e && e.until > Date.now() ? e.data : undefined);
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
    this.captures.get(lb)?.delete(holder);
    return Promise.resolve();
  }

  captureHolders(lb: string): Promise<number> {
    const now = Date.now();
    return Promise.resolve([...(this.captures.get(lb)?.values() ?? [])].filter((u) => u > now).length);
  }

  private readonly rates = new Map<string, number>();
  private readonly memos = new Map<string, string>();

  getMemo(checkId: string, key: string): Promise<string | undefined> {
    return Promise.resolve(this.memos.get(`${checkId}\n${key}`));
  }

  setMemo(checkId: string, key: string, value: string): Promise<void> {
    this.memos.set(`${checkId}\n${key}`, value);
    return Promise.resolve();
  }

  hit(key: string, windowSeconds: number): Promise<number> {
    const k = `${key}:${Math.floor(Date.now() / 1000 / windowSeconds)}`;
    const n = (this.rates.get(k) ?? 0) + 1;
    this.rates.set(k, n);
    return Promise.resolve(n);
  }

  private readonly claims = new Map<string, number>();

  claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now();
    for (const [k, until] of this.claims) if (until <= now) this.claims.delete(k);
    if (this.claims.has(key)) return Promise.resolve(false);
    this.claims.set(key, now + ttlSeconds * 1000);
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
