// Issue 6's figures: Activity POST → the bot's immediate reply (the POST
// returns after the reply reached the connector) at 50 requests/s for 20 s,
// and command → first step card at the fake connector on the healthy lab VIP. Issue 28: command → step 1 and
// → diagnosis with the connector answering every call after 100 ms, as the Slack case has it.
import type { Lab } from '../lab/lab.js';
import { startTeamsStack, type TeamsStack } from '../teams/teams-stack.js';
import { chatLatency, waitUntil, type ChatPath } from './chat-latency.js';
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
    const path = teamsChatPath(full);
    for (let i = 0; i < 11; i++) {
      const t = performance.now();
      const replies = await path.command();
      const about = (what: string) => (): string => `check ${i}: ${what} (posted so far: ${replies.describe()})`;
      await waitUntil(() => replies.step1(), 30_000, about('the step 1 card'));
      if (i > 0) firsts.push(performance.now() - t); // the first one warms the SSH session
      await waitUntil(() => replies.diagnosis(), 30_000, about('the diagnosis'));
    }
    const m = median(firsts);
    out.push(line('command → step 1 card, median of 10', `${Math.round(m)} ms`, '< 600 ms', m < 600));
    out.push(...(await chatLatency(teamsChatPath(full), 100)));
  } finally {
    await full.close();
  }
  return out;
}

/** Issue 28: the same path with every connector call (send, update) answered after a real connector's round trip. */
export function teamsChatPath(full: TeamsStack): ChatPath {
  return {
    fake: 'fake Bot Connector',
    where: 'in the reply chain',
    setLatency: (ms) => {
      full.connector.latencyMs = ms;
    },
    async command() {
      const { status, conversationId } = await full.mention('check haproxy-http');
      if (status !== 200) throw new Error(`activity POST answered ${status}`);
      const chain = (): string[] =>
        full.connector.sent
          .filter((s) => s.conversationId === conversationId)
          .map((s) => s.activity.text ?? s.activity.summary ?? '');
      return {
        step1: () => chain().some((x) => x.includes('Step 1')),
        diagnosis: () => chain().some((x) => /^(Diagnosis|No fault found)/.test(x)),
        // The ack card loses its Cancel button once the diagnosis is out (updateActivity).
        ended: () => full.connector.updates.some((u) => u.conversationId === conversationId),
        describe: () => JSON.stringify(chain().map((x) => x.slice(0, 40))),
      };
    },
  };
}

/** `npm run bench -- teams-latency`: only issue 28's figure (a warm-up check and 20 timed ones). */
export async function benchTeamsLatency(lab: Lab): Promise<string[]> {
  const full = await startTeamsStack(lab, true);
  try {
    return [
      'Teams (issue 28): chat latency with a 100 ms Bot Connector',
      ...(await chatLatency(teamsChatPath(full), 100)),
    ];
  } finally {
    await full.close();
  }
}
