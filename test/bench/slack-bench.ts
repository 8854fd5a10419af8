// Issue 5's figures: signed slash command → ack round trip at 50 requests/s
// for 20 s (queue on real Redis), and command → first step's thread post at
// the fake Slack on the healthy lab VIP. Issue 15: the ack p99 again with the
// ops port up and scraped, beside the figure without it.
import type { Lab } from '../lab/lab.js';
import { createLogger } from '../../src/log.js';
import { startOpsServer } from '../../src/ops/ops-server.js';
import { BullBus } from '../../src/pipeline/bullmq-bus.js';
import type { FakeSlack } from '../slack/fake-slack.js';
import { startSlackStack, type SlackStack } from '../slack/slack-stack.js';
import { line, median, openLoop, percentile } from './stats.js';

const VARIANTS = ['haproxy-http', 'haproxy-tcp', 'nginx', 'dnat'].flatMap((v) => [v, `${v} --all`]);

/**
 * The ack round trip at 50 requests/s for 20 s; with `metrics`, the bot's ops
 * port is up and scraped every second (its own metrics plus BullMQ's queue
 * gauges, which ask Redis), far more often than Prometheus would.
 */
async function ackTimes(lab: Lab, metrics: boolean): Promise<number[]> {
  const stack = await startSlackStack(lab, false);
  const bus = stack.backend.bus instanceof BullBus ? stack.backend.bus : undefined;
  const ops = metrics
    ? await startOpsServer({
        host: '127.0.0.1',
        port: 0,
        process: 'bench',
        readiness: {},
        ...(bus ? { queueMetrics: () => bus.prometheusText(['checks', 'reports-slack']) } : {}),
        log: createLogger('silent'),
      })
    : undefined;
  let scrapes = 0;
  const scraper = ops
    ? setInterval(() => {
        void fetch(`${ops.url}/metrics`).then(async (r) => {
          if ((await r.text()).includes('lbcheck_commands_total')) scrapes++;
        });
      }, 1000)
    : undefined;
  try {
    let n = 0;
    const t0 = Math.floor(Date.now() / 1000);
    const times = await openLoop(1000, 20, async () => {
      // Each request signed differently: the bot refuses a signature it has seen (replay), and 50 identical
      // requests a second would share one. A distinct (timestamp, text) pair per request, all within the window.
      const i = n++;
      const text = `${VARIANTS[i % VARIANTS.length] ?? ''}`;
      const timestamp = t0 - Math.floor(i / VARIANTS.length);
      const r = await stack.slash(text, { timestamp });
      if (r.status !== 200 || !r.body.includes('Queued')) throw new Error(`bad ack: ${r.status} ${r.body}`);
    });
    if (ops && scrapes < 10) throw new Error(`only ${scrapes} metrics scrapes succeeded during the run`);
    return times;
  } finally {
    clearInterval(scraper);
    await ops?.close();
    await stack.close();
  }
}

export async function benchSlack(lab: Lab): Promise<string[]> {
  const out = ['Slack (issue 5): real Bolt over HTTP, fake Slack Web API'];
  const times = await ackTimes(lab, false);
  const p99 = percentile(times, 99);
  out.push(line('slash command → ack, 50 req/s for 20 s: p50', `${median(times).toFixed(1)} ms`));
  out.push(line('slash command → ack, 50 req/s for 20 s: p99', `${p99.toFixed(1)} ms`, '< 50 ms', p99 < 50));
  // Issue 15: the same load with the ops port up and scraped every second.
  const withMetrics = await ackTimes(lab, true);
  const p99m = percentile(withMetrics, 99);
  out.push(
    line(
      'slash → ack p99, metrics off → on (scraped 1/s)',
      `${p99.toFixed(1)} → ${p99m.toFixed(1)} ms`,
      'no measurable difference (< 5 ms or 10%)',
      p99m - p99 < Math.max(5, p99 * 0.1),
    ),
  );

  const full = await startSlackStack(lab, true);
  try {
    const firsts: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t = performance.now();
      const r = await full.slash('haproxy-http');
      const id = /\b(chk-[0-9a-f]{10})\b/.exec(r.body)?.[1];
      // Without an id every thread would match: fail loudly instead of timing nothing.
      if (!id) throw new Error(`no check id in the ack: ${r.body}`);
      while (!full.fake.threadOf(id).some((x) => x.includes('Step 1'))) await new Promise((res) => setTimeout(res, 2));
      if (i > 0) firsts.push(performance.now() - t); // the first one warms the SSH session
      while (!full.fake.callsOf('chat.update').some((c) => (c.args.text ?? '').includes(id)))
        await new Promise((res) => setTimeout(res, 5));
    }
    const m = median(firsts);
    out.push(line('slash command → step 1 in the thread, median of 10', `${Math.round(m)} ms`, '< 600 ms', m < 600));
    out.push(...(await withSlackLatency(full, 100)));
  } finally {
    await full.close();
  }
  return out;
}

/** One thing that happened for a check, in ms after its command was sent. */
interface Span {
  label: string;
  start: number;
  end: number;
}

/** Which step a file belongs to, from its name (step2-ladder.png). */
const stepOfFile = (name: string): string => /^(step\d)/.exec(name)?.[1] ?? 'file';

/** What a thread message is, from its text: "step 2 message", "diagnosis". */
function postLabel(text: string): string {
  const step = /Step (\d)/.exec(text.slice(0, 60))?.[1];
  if (step) return `step${step} message`;
  if (!/^(No fault found|Diagnosis)/.test(text)) return 'notice';
  // The last step may go out with the diagnosis (its text leads with the diagnosis).
  const joined = /^. Step (\d) · /m.exec(text)?.[1];
  return joined ? `step${joined} + diagnosis` : 'diagnosis';
}

/**
 * Where one check's time went, from the fake's call log (arrival and answer of every call) and the reports the
 * worker queued (one check at a time, so every call in the window is this check's).
 */
function spansOf(fake: FakeSlack, t0: number, queued: Span[]): Span[] {
  const spans: Span[] = [...queued];
  const titles = new Map<string, string>();
  for (const c of fake.callsOf('files.completeUploadExternal'))
    for (const f of JSON.parse(c.args.files ?? '[]') as { id: string; title?: string }[])
      titles.set(f.id, f.title ?? '');
  for (const c of fake.calls) {
    if (c.arrivedAt === undefined || c.answeredAt === undefined || c.arrivedAt < t0) continue;
    const at = { start: c.arrivedAt - t0, end: c.answeredAt - t0 };
    if (c.method === 'chat.postMessage')
      spans.push({ label: c.args.thread_ts ? postLabel(c.args.text ?? '') : 'parent message', ...at });
    else if (c.method === 'files.getUploadURLExternal')
      spans.push({ label: `${stepOfFile(c.args.filename ?? '')} upload URL`, ...at });
    else if (c.method === 'files.completeUploadExternal') {
      const first = (JSON.parse(c.args.files ?? '[]') as { title?: string }[])[0]?.title ?? '';
      const carries = c.args.blocks !== undefined || c.args.initial_comment !== undefined;
      spans.push({ label: `${stepOfFile(first)} files${carries ? ' + message' : ''}`, ...at });
    } else spans.push({ label: c.method, ...at });
  }
  for (const u of fake.uploadLog)
    if (u.arrivedAt >= t0)
      spans.push({
        label: `${stepOfFile(titles.get(u.fileId) ?? '')} upload`,
        start: u.arrivedAt - t0,
        end: u.answeredAt - t0,
      });
  return spans;
}

/**
 * How many Slack round trips one after the other the diagnosis waited for: the longest chain of calls and
 * uploads, each starting after the one before it was answered, that ends with the diagnosis. Unlike the
 * milliseconds, this does not move with the machine's load.
 */
function roundTripsInARow(spans: Span[]): number {
  const calls = spans.filter((s) => !s.label.startsWith('worker:') && s.label !== 'ack').sort((a, b) => a.end - b.end);
  const depth = new Map<Span, number>();
  for (const c of calls)
    depth.set(c, 1 + Math.max(0, ...calls.filter((p) => p.end <= c.start).map((p) => depth.get(p) ?? 0)));
  const diagnosis = calls.find((c) => c.label === 'diagnosis' || c.label.endsWith('+ diagnosis'));
  return diagnosis ? (depth.get(diagnosis) ?? 0) : Number.NaN;
}

/** Per label: the median first start and last end over the checks, in time order. */
function breakdown(checks: Span[][]): string[] {
  const byLabel = new Map<string, { starts: number[]; ends: number[] }>();
  for (const spans of checks) {
    const seen = new Map<string, Span>();
    for (const s of spans) {
      const was = seen.get(s.label);
      seen.set(s.label, was ? { ...s, start: Math.min(was.start, s.start), end: Math.max(was.end, s.end) } : s);
    }
    for (const [label, s] of seen) {
      const e = byLabel.get(label) ?? { starts: [], ends: [] };
      e.starts.push(s.start);
      e.ends.push(s.end);
      byLabel.set(label, e);
    }
  }
  return [...byLabel]
    .map(([label, e]) => ({ label, start: median(e.starts), end: median(e.ends), n: e.starts.length }))
    .sort((a, b) => a.end - b.end)
    .map(
      (r) =>
        `    ${r.label.padEnd(34)} ${String(Math.round(r.start)).padStart(5)} → ${String(Math.round(r.end)).padStart(5)} ms` +
        (r.n < checks.length ? `  (in ${r.n} of ${checks.length})` : ''),
    );
}

/** Records when the worker queued each report of a check (the bus is shared by the stack's worker). */
function recordQueuedReports(full: SlackStack): { take(checkId: string, t0: number): Span[]; stop(): void } {
  const bus = full.backend.bus;
  const original = bus.addReport.bind(bus);
  const seen = new Map<string, { label: string; at: number }[]>();
  bus.addReport = (r) => {
    const label = r.kind === 'step' ? `step${r.step.step} report queued` : `${r.kind} report queued`;
    seen.set(r.checkId, [...(seen.get(r.checkId) ?? []), { label, at: performance.now() }]);
    return original(r);
  };
  return {
    take: (checkId, t0) =>
      (seen.get(checkId) ?? []).map((x) => ({ label: `worker: ${x.label}`, start: x.at - t0, end: x.at - t0 })),
    stop: () => {
      bus.addReport = original;
    },
  };
}

/** Issue 28: the same path with every Web API call (and upload) answered after `ms`, as a real Slack's round trip. */
async function withSlackLatency(full: SlackStack, ms: number): Promise<string[]> {
  full.fake.latencyMs = ms;
  const toStep1: number[] = [];
  const toDiagnosis: number[] = [];
  const checks: Span[][] = [];
  const queued = recordQueuedReports(full);
  try {
    for (let i = 0; i < 21; i++) {
      const t = performance.now();
      const r = await full.slash('haproxy-http');
      const acked = performance.now() - t;
      const id = /\b(chk-[0-9a-f]{10})\b/.exec(r.body)?.[1];
      if (!id) throw new Error(`no check id in the ack: ${r.body}`);
      while (!full.fake.threadOf(id).some((x) => x.includes('Step 1'))) await new Promise((res) => setTimeout(res, 2));
      const step1 = performance.now() - t;
      while (!full.fake.threadOf(id).some((x) => /^(No fault found|Diagnosis)/.test(x)))
        await new Promise((res) => setTimeout(res, 2));
      const diagnosis = performance.now() - t;
      while (!full.fake.callsOf('chat.update').some((c) => (c.args.text ?? '').includes(id)))
        await new Promise((res) => setTimeout(res, 5));
      if (i > 0) {
        toStep1.push(step1);
        toDiagnosis.push(diagnosis);
        checks.push([{ label: 'ack', start: 0, end: acked }, ...spansOf(full.fake, t, queued.take(id, t))]);
      }
    }
  } finally {
    queued.stop();
    full.fake.latencyMs = 0;
  }
  const s1 = median(toStep1);
  const d = median(toDiagnosis);
  const chain = median(checks.map(roundTripsInARow));
  return [
    line(
      `fake Slack +${ms} ms per call: command → step 1 in the thread, p50 of 20`,
      `${Math.round(s1)} ms`,
      '≤ 350 ms',
      s1 <= 350,
    ),
    line(
      `fake Slack +${ms} ms per call: command → diagnosis in the thread, p50 of 20`,
      `${Math.round(d)} ms`,
      '≤ 700 ms',
      d <= 700,
    ),
    line('Slack round trips one after another to the diagnosis, p50', String(chain)),
    `  where the time goes (p50 over the 20 checks, ms after the command: first start → last end):`,
    ...breakdown(checks),
  ];
}

/** Issue 28's figures alone (`npm run bench -- slack-chat`): the warm chat path with a real Slack's latency. */
export async function benchSlackChat(lab: Lab): Promise<string[]> {
  const out = ['Slack chat latency (issue 28): real Bolt over HTTP, fake Slack Web API adding 100 ms per call'];
  const full = await startSlackStack(lab, true);
  try {
    // Warm the SSH session and the check path first, as the full piece's first-post figure does.
    for (let i = 0; i < 3; i++) {
      const r = await full.slash('haproxy-http');
      const id = /\b(chk-[0-9a-f]{10})\b/.exec(r.body)?.[1];
      if (!id) throw new Error(`no check id in the ack: ${r.body}`);
      while (!full.fake.callsOf('chat.update').some((c) => (c.args.text ?? '').includes(id)))
        await new Promise((res) => setTimeout(res, 5));
    }
    out.push(...(await withSlackLatency(full, 100)));
  } finally {
    await full.close();
  }
  return out;
}
