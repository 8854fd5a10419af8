// Issue 5's figures: signed slash command → ack round trip at 50 requests/s
// for 20 s (queue on real Redis), and command → first step's thread post at
// the fake Slack on the healthy lab VIP.
import type { Lab } from '../lab/lab.js';
import { startSlackStack } from '../slack/slack-stack.js';
import { line, median, openLoop, percentile } from './stats.js';

export async function benchSlack(lab: Lab): Promise<string[]> {
  const out = ['Slack (issue 5): real Bolt over HTTP, fake Slack Web API'];
  const ackOnly = await startSlackStack(lab, false);
  try {
    const times = await openLoop(1000, 20, async () => {
      const r = await ackOnly.slash('haproxy-http');
      if (r.status !== 200 || !r.body.includes('Queued')) throw new Error(`bad ack: ${r.status} ${r.body}`);
    });
    const p99 = percentile(times, 99);
    out.push(line('slash command → ack, 50 req/s for 20 s: p50', `${median(times).toFixed(1)} ms`));
    out.push(line('slash command → ack, 50 req/s for 20 s: p99', `${p99.toFixed(1)} ms`, '< 50 ms', p99 < 50));
  } finally {
    await ackOnly.close();
  }

  const full = await startSlackStack(lab, true);
  try {
    const firsts: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t = performance.now();
      const r = await full.slash('haproxy-http');
      const id = /Queued (chk-[0-9a-f]{10})/.exec(r.body)?.[1] ?? '';
      while (!full.fake.threadOf(id).some((x) => x.includes('Step 1'))) await new Promise((res) => setTimeout(res, 2));
      if (i > 0) firsts.push(performance.now() - t); // the first one warms the SSH session
      while (!full.fake.callsOf('chat.update').some((c) => (c.args.text ?? '').includes(id)))
        await new Promise((res) => setTimeout(res, 5));
    }
    const m = median(firsts);
    out.push(line('slash command → step 1 in the thread, median of 10', `${Math.round(m)} ms`, '< 600 ms', m < 600));
  } finally {
    await full.close();
  }
  return out;
}
