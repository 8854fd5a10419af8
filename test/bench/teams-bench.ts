// Issue 6's figures: Activity POST → the bot's immediate reply (the POST
// returns after the reply reached the connector) at 50 requests/s for 20 s,
// and command → first step card at the fake connector on the healthy lab VIP.
import type { Lab } from '../lab/lab.js';
import { startTeamsStack } from '../teams/teams-stack.js';
import { line, median, openLoop, percentile } from './stats.js';

export async function benchTeams(lab: Lab): Promise<string[]> {
  const out = ['Teams (issue 6): real botbuilder CloudAdapter over HTTP, fake Bot Connector'];
  const ackOnly = await startTeamsStack(lab, false);
  try {
    const times = await openLoop(1000, 20, async () => {
      const r = await ackOnly.mention('check haproxy-http');
      if (r.status !== 200) throw new Error(`activity POST answered ${r.status}`);
    });
    const replies = ackOnly.connector.sent.filter((s) => (s.activity.text ?? '').startsWith('Queued')).length;
    if (replies !== 1000) throw new Error(`only ${replies} of 1000 commands got their reply`);
    const p99 = percentile(times, 99);
    out.push(line('activity POST → immediate reply, 50 req/s 20 s: p50', `${median(times).toFixed(1)} ms`));
    out.push(line('activity POST → immediate reply, 50 req/s 20 s: p99', `${p99.toFixed(1)} ms`, '< 50 ms', p99 < 50));
  } finally {
    await ackOnly.close();
  }
  const full = await startTeamsStack(lab, true);
  try {
    const firsts: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t = performance.now();
      const { conversationId } = await full.mention('check haproxy-http');
      const chain = (): string[] =>
        full.connector.sent
          .filter((s) => s.conversationId === conversationId)
          .map((s) => s.activity.text ?? s.activity.summary ?? '');
      while (!chain().some((x) => x.includes('Step 1'))) await new Promise((r) => setTimeout(r, 2));
      if (i > 0) firsts.push(performance.now() - t); // the first one warms the SSH session
      while (!chain().some((x) => /^(Diagnosis|No fault found)/.test(x))) await new Promise((r) => setTimeout(r, 5));
    }
    const m = median(firsts);
    out.push(line('command → step 1 card, median of 10', `${Math.round(m)} ms`, '< 600 ms', m < 600));
  } finally {
    await full.close();
  }
  return out;
}
