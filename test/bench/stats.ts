// Small statistics helpers for the benchmark's printed figures.

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function line(label: string, value: string, target?: string, ok?: boolean): string {
  const verdict = ok === undefined ? '' : ok ? '  [meets target]' : '  [MISSES target]';
  return `  ${label.padEnd(46)} ${value.padStart(12)}${target ? `   target ${target}` : ''}${verdict}`;
}

/**
 * Open-loop load: starts one request every intervalMs whatever the answers do
 * (so a slow server cannot slow the offered rate), and returns each latency.
 */
export async function openLoop(count: number, intervalMs: number, request: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = start + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      (async () => {
        const t = performance.now();
        await request();
        times.push(performance.now() - t);
      })(),
    );
  }
  await Promise.all(pending);
  return times;
}
