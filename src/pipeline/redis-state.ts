// PipelineState on Redis. All keys live under one prefix (use a {hash tag}
// prefix such as "{lbcheck}" on Redis Cluster so scripts see one slot).
// In flight: one set of every in-flight check id (status, sweeps), and per
// target a sorted set of ids scored by when each becomes overdue for progress,
// so counting a target's checks on the ack path reads no record.
import type { RedisClient } from '../runtime/redis-client.js';
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

// Exactly-once marker per report plus the check's post-order cursor, together.
const MARK_POSTED = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) == false then return 0 end
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1`;

// A counting semaphore with leases: expired holders (a crashed worker) free their slot.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

// Read-modify-write of a record without losing a concurrent update.
const PATCH = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
local patch = cjson.decode(ARGV[1])
for k, v in pairs(patch) do rec[k] = v end
if ARGV[2] ~= '' then
  local steps = rec['steps'] or {}
  if type(steps) ~= 'table' or next(steps) == nil then steps = {} end
  local add = cjson.decode(ARGV[2])
  local replaced = false
  for i, s in ipairs(steps) do if s['step'] == add['step'] then steps[i] = add; replaced = true end end
  if not replaced then table.insert(steps, add) end
  rec['steps'] = steps
end
redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
return 1`;

export class RedisState implements PipelineState {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly limits: StateLimits = DEFAULT_STATE_LIMITS,
    private readonly onLost?: LostCheckHandler,
  ) {}

  private k(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** A target's in-flight ids scored by when they become overdue (ms); "inflight-due", not the old sets' name. */
  private due(target: string): string {
    return this.k('inflight-due', target);
  }

  async createCheck(request: CheckRequest): Promise<void> {
    const record: CheckRecord = { request, status: 'queued', updatedAt: new Date().toISOString(), steps: [] };
    const at = Date.parse(request.requestedAt);
    await this.redis
      .multi()
      .set(this.k('check', request.checkId), JSON.stringify(record), 'EX', this.limits.recordTtlSeconds)
      .zadd(this.k('history'), at, request.checkId)
      .zadd(this.k('history', request.target), at, request.checkId)
      .zremrangebyrank(this.k('history'), 0, -this.limits.historyMax - 1)
      .zremrangebyrank(this.k('history', request.target), 0, -this.limits.historyMax - 1)
      .sadd(this.k('inflight'), request.checkId)
      .zadd(this.due(request.target), dueAt(Date.now(), this.limits), request.checkId)
      .exec();
  }

  async discardCheck(request: CheckRequest): Promise<void> {
    await this.redis
      .multi()
      .del(this.k('check', request.checkId))
      .zrem(this.k('history'), request.checkId)
      .zrem(this.k('history', request.target), request.checkId)
      .srem(this.k('inflight'), request.checkId)
      .zrem(this.due(request.target), request.checkId)
      .exec();
  }

  /**
   * The live records among these in-flight ids; the others leave the in-flight sets, and a lost one is marked
   * failed and handed to onLost. With a target, the ids are its overdue ones: a live one's due time is set again
   * from its last progress (the status listing, without a target, leaves that to the next count).
   */
  private async sweep(ids: string[], target?: string): Promise<CheckRecord[]> {
    const all = await Promise.all(ids.map(async (id) => [id, await this.getCheck(id)] as const));
    const live: CheckRecord[] = [];
    const now = Date.now();
    for (const [id, r] of all) {
      if (r && isLive(r, now, this.limits.staleInFlightMs)) {
        live.push(r);
        // XX: an entry that ended meanwhile (removed by updateCheck) is not put back.
        if (target !== undefined)
          await this.redis.zadd(this.due(target), 'XX', dueAt(Date.parse(r.updatedAt), this.limits), id);
        continue;
      }
      if (r && (r.status === 'queued' || r.status === 'running')) await this.markLost(r);
      // A record that expired no longer says its target: the caller's target set is cleaned too.
      const targets = new Set([r?.request.target, target].filter((t): t is string => t !== undefined));
      const tx = this.redis.multi().srem(this.k('inflight'), id);
      for (const t of targets) tx.zrem(this.due(t), id);
      await tx.exec();
    }
    return live;
  }

  private async markLost(r: CheckRecord): Promise<void> {
    await this.updateCheck(r.request.checkId, { status: 'failed', error: LOST_IN_FLIGHT_ERROR });
    await this.onLost?.({ ...r, status: 'failed', error: LOST_IN_FLIGHT_ERROR });
  }

  async getCheck(id: string): Promise<CheckRecord | undefined> {
    const raw = await this.redis.get(this.k('check', id));
    if (raw === null) return undefined;
    const rec = JSON.parse(raw) as CheckRecord;
    // cjson encodes an empty Lua table as {}, not []
    if (!Array.isArray(rec.steps)) rec.steps = [];
    rec.steps.sort((a, b) => a.step - b.step);
    return rec;
  }

  async updateCheck(
    id: string,
    patch: Partial<Pick<CheckRecord, 'status' | 'worker' | 'culprit' | 'diagnosis' | 'error' | 'parentMessage'>> & {
      status?: CheckStatus;
    },
  ): Promise<void> {
    await this.redis.eval(
      PATCH,
      1,
      this.k('check', id),
      JSON.stringify({ ...patch, updatedAt: new Date().toISOString() }),
      '',
    );
    if (patch.status === 'done' || patch.status === 'failed' || patch.status === 'cancelled') {
      const target = (await this.getCheck(id))?.request.target;
      const tx = this.redis.multi().srem(this.k('inflight'), id);
      if (target !== undefined) tx.zrem(this.due(target), id);
      await tx.exec();
    }
  }

  async inFlightCount(target: string): Promise<number> {
    const now = String(Date.now());
    const [overdue, count] = await this.countAndOverdue(target, now);
    if (overdue.length === 0) return count;
    await this.sweep(overdue, target);
    return this.redis.zcount(this.due(target), `(${now}`, '+inf');
  }

  /** One round trip: the target's entries not yet overdue, and up to SWEEP_BATCH overdue ids. */
  private async countAndOverdue(target: string, now: string): Promise<[string[], number]> {
    const res = await this.redis
      .multi()
      .zrangebyscore(this.due(target), '-inf', now, 'LIMIT', 0, SWEEP_BATCH)
      .zcount(this.due(target), `(${now}`, '+inf')
      .exec();
    const [overdue, count] = (res ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    return [overdue as string[], Number(count)];
  }

  async addStep(id: string, step: StepDigest): Promise<void> {
    await this.redis.eval(
      PATCH,
      1,
      this.k('check', id),
      JSON.stringify({ updatedAt: new Date().toISOString() }),
      JSON.stringify(step),
    );
  }

  private async records(ids: string[]): Promise<CheckRecord[]> {
    const all = await Promise.all(ids.map((id) => this.getCheck(id)));
    return all.filter((r): r is CheckRecord => r !== undefined);
  }

  async history(target: string | undefined, limit: number): Promise<CheckRecord[]> {
    const ids = await this.redis.zrevrange(target ? this.k('history', target) : this.k('history'), 0, limit - 1);
    return this.records(ids);
  }

  async inFlight(): Promise<CheckRecord[]> {
    const recs = await this.sweep(await this.redis.smembers(this.k('inflight')));
    return recs.sort((a, b) => a.request.requestedAt.localeCompare(b.request.requestedAt));
  }

  async requestCancel(id: string, by: string): Promise<void> {
    await this.redis.set(this.k('cancel', id), by, 'EX', this.limits.cancelTtlSeconds);
  }

  async cancelRequestedBy(id: string): Promise<string | undefined> {
    return (await this.redis.get(this.k('cancel', id))) ?? undefined;
  }

  async lastPosted(id: string): Promise<number> {
    return Number((await this.redis.get(this.k('posted', id))) ?? 0);
  }

  async wasPosted(reportId: string): Promise<boolean> {
    return (await this.redis.exists(this.k('posted-report', reportId))) === 1;
  }

  async markPosted(checkId: string, reportId: string, seq: number): Promise<boolean> {
    return (
      (await this.redis.eval(
        MARK_POSTED,
        2,
        this.k('posted', checkId),
        this.k('posted-report', reportId),
        String(seq),
        String(this.limits.recordTtlSeconds),
      )) === 1
    );
  }

  async putEvidence(sha256: string, data: Buffer, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.k('evidence', sha256), data, 'EX', ttlSeconds);
  }

  async getEvidence(sha256: string): Promise<Buffer | undefined> {
    return (await this.redis.getBuffer(this.k('evidence', sha256))) ?? undefined;
  }

  async tryAcquireCapture(lb: string, holder: string, limit: number, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    const r = await this.redis.eval(
      ACQUIRE,
      1,
      this.k('captures', lb),
      String(now),
      String(now + leaseMs),
      holder,
      String(limit),
      String(leaseMs * 2),
    );
    return r === 1;
  }

  async releaseCapture(lb: string, holder: string): Promise<void> {
    await this.redis.zrem(this.k('captures', lb), holder);
  }

  async captureHolders(lb: string): Promise<number> {
    await this.redis.zremrangebyscore(this.k('captures', lb), '-inf', String(Date.now()));
    return this.redis.zcard(this.k('captures', lb));
  }

  async getMemo(checkId: string, key: string): Promise<string | undefined> {
    return (await this.redis.hget(this.k('memo', checkId), key)) ?? undefined;
  }

  async setMemo(checkId: string, key: string, value: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.k('memo', checkId), key, value)
      .expire(this.k('memo', checkId), this.limits.recordTtlSeconds)
      .exec();
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const window = Math.floor(Date.now() / 1000 / windowSeconds);
    const k = this.k('rate', key, String(window));
    const res = await this.redis
      .multi()
      .incr(k)
      .expire(k, windowSeconds * 2)
      .exec();
    return Number(res?.[0]?.[1] ?? 0);
  }

  async releaseClaim(key: string): Promise<void> {
    await this.redis.del(this.k('once', key));
  }

  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.k('once', key), '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
