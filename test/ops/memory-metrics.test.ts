// /metrics says how much memory the process holds (resident, JS heap,
// external) and how often the ladder render thread was replaced; the Grafana
// dashboard queries only metrics the process exports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { enableProcessMetrics, recordPngThreadReplaced, registry } from '../../src/ops/metrics.js';

const dashboard = fileURLToPath(new URL('../../../docs/grafana-lbcheck.json', import.meta.url));

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

function exported(text: string): Set<string> {
  return new Set(text.split('\n').flatMap((l) => /^# TYPE (\S+) /.exec(l)?.[1] ?? []));
}

describe('memory on /metrics and the dashboard', () => {
  it('resident, JS heap and external memory are exported with their values', async () => {
    enableProcessMetrics();
    const text = await registry.metrics();
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_external_memory_bytes',
    ]) {
      const value = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.ok(value > 0, `${name} has a value: ${value}`);
    }
    const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]);
    // The same figure the process reads itself, within what a scrape's own allocations move it.
    assert.ok(Math.abs(rss - process.memoryUsage.rss()) < 64 * 1024 * 1024, `${rss} vs ${process.memoryUsage.rss()}`);
  });

  it('a replaced render thread is counted by reason', async () => {
    recordPngThreadReplaced('renders');
    recordPngThreadReplaced('renders');
    recordPngThreadReplaced('rss');
    const text = await registry.metrics();
    assert.match(text, /^lbcheck_png_threads_replaced_total\{reason="renders"\} 2$/m);
    assert.match(text, /^lbcheck_png_threads_replaced_total\{reason="rss"\} 1$/m);
  });

  it("every metric the dashboard queries is one the process exports (BullMQ's and Prometheus' own aside)", async () => {
    enableProcessMetrics();
    const names = exported(await registry.metrics());
    const panels = (JSON.parse(readFileSync(dashboard, 'utf8')) as { panels: Panel[] }).panels;
    const memory = panels.find((p) => /memory/i.test(p.title));
    const queried = (p: Panel): string[] =>
      (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\b([a-z_][a-z0-9_]*)\{/g)].map((m) => m[1] ?? ''));
    assert.deepEqual(
      queried(memory ?? { title: '' }).filter((n) => /memory|heap/.test(n)),
      ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes'],
    );
    for (const panel of panels)
      for (const name of queried(panel)) {
        if (name === 'up' || name.startsWith('bullmq_')) continue;
        const base = name.replace(/_(bucket|count|sum)$/, '');
        assert.ok(names.has(base), `panel "${panel.title}" queries ${name}, which /metrics does not export`);
      }
  });
});
