// A Map whose entries expire, for the in-memory twins of Redis keys set with
// EX: read lazily (an expired entry is gone on read) and pruned in bulk now
// and then, so a long-running embedded bot does not keep every key forever.

const PRUNE_EVERY = 256;

export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private writes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (++this.writes % PRUNE_EVERY === 0) this.prune();
    this.entries.set(key, { value, until: this.now() + ttlMs });
  }

  /** Replaces the value and keeps the entry's expiry (Redis KEEPTTL); false when the key is absent. */
  update(key: string, value: V): boolean {
    const e = this.entries.get(key);
    if (!e || e.until <= this.now()) return false;
    e.value = value;
    return true;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Live entries; for tests and bounded scans. */
  get size(): number {
    this.prune();
    return this.entries.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
  }
}
