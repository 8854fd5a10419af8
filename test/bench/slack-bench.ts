// Issue 5's figures: signed slash command → ack round trip at 50 requests/s
// for 20 s (queue on real Redis), and command → first step's thread post at
// the fake Slack on the healthy lab VIP. Issue 15: the ack p99 again with the
// ops port up and scraped, beside the figure without it.
import type { Lab } from '../lab/lab.js';
import { createLogger } from '../../src/log.js';
import { startOpsServer } from '../../src/ops/ops-server.js';
import { BullBus } from '../../src/pipeline/bullmq-bus.js';
import { startSlackStack, type SlackStack } from '../slack/slack-stack.js';
import { chatLatency, type ChatPath } from './chat-latency.js';
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
    out.push(...(await chatLatency(slackChatPath(full), 100)));
  } finally {
    await full.close();
  }
  return out;
}

/** Issue 28: the same path with every Web API call (and upload) answered after a real Slack's round trip. */
export function slackChatPath(full: SlackStack): ChatPath {
  return {
    fake: 'fake Slack',
    where: 'in the thread',
    setLatency: (ms) => {
      full.fake.latencyMs = ms;
    },
    async command() {
      const r = await full.slash('haproxy-http');
      const id = /\b(chk-[0-9a-f]{10})\b/.exec(r.body)?.[1];
      // Without an id every thread would match: fail loudly instead of timing nothing.
      if (!id) throw new Error(`no check id in the ack: ${r.body}`);
      const thread = (): string[] => full.fake.threadOf(id);
      return {
        step1: () => thread().some((x) => x.includes('Step 1')),
        diagnosis: () => thread().some((x) => /^(No fault found|Diagnosis)/.test(x)),
        ended: () => full.fake.callsOf('chat.update').some((c) => (c.args.text ?? '').includes(id)),
        describe: () => JSON.stringify(thread().map((x) => x.slice(0, 40))),
      };
    },
  };
}

/** `npm run bench -- slack-latency`: only issue 28's figure (a warm-up check and 20 timed ones). */
export async function benchSlackLatency(lab: Lab): Promise<string[]> {
  const full = await startSlackStack(lab, true);
  try {
    return [
      'Slack (issue 28): chat latency with a 100 ms Slack Web API',
      ...(await chatLatency(slackChatPath(full), 100)),
    ];
  } finally {
    await full.close();
  }
}
