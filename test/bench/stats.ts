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
