// Teams reply chains stay in order and cards do not go stale: with the
// connector answering 429 to every third call, each check's chain still reads
// answer, steps, diagnosis (a retried post never overtakes a later one), and
// when the check ends its answer card loses the Cancel button (updateActivity),
// as Slack's parent message is updated. Real botbuilder over HTTP, the lab
// behind it, the fake connector recording sends and updates.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { until } from '../pipeline/platform-base.js';
import type { SentActivity } from './fake-connector.js';
import { startTeamsStack, type TeamsStack } from './teams-stack.js';

let lab: Lab;
let stack: TeamsStack;

useLab({ serverCount: 2, heal: true, reset: () => (stack.connector.failEvery = 0) }, async (started, own) => {
  lab = started;
  stack = own(await startTeamsStack(lab, true));
});

const shown = (s: SentActivity): string => s.activity.text ?? s.activity.summary ?? '';
const chain = (conversationId: string): SentActivity[] =>
  stack.connector.sent.filter((s) => s.conversationId === conversationId);
const kindOf = (s: SentActivity): string => {
  const t = shown(s);
  if (/^Queued chk-/.test(t)) return 'answer';
  const step = /Step (\d)/.exec(t)?.[1];
  if (step) return `step${step}`;
  return /^(Diagnosis|No fault found)/.test(t) ? 'diagnosis' : t.slice(0, 40);
};
const cardActions = (s: SentActivity | undefined): unknown[] =>
  (s?.activity.attachments?.[0]?.content as { actions?: unknown[] } | undefined)?.actions ?? [];

describe('Teams: reply chains in order, cards that follow the check', { timeout: 120_000 }, () => {
  it('429 on every third connector call: each chain reads answer, steps, diagnosis, each once', async () => {
    stack.connector.failEvery = 3;
    const targets = ['haproxy-http', 'nginx', 'dnat'];
    const chains = await Promise.all(targets.map(async (t) => (await stack.mention(`check ${t}`)).conversationId));
    await until(() => chains.every((c) => chain(c).some((s) => kindOf(s) === 'diagnosis')), 'every diagnosis', 60_000);
    for (const c of chains)
      assert.deepEqual(chain(c).map(kindOf), ['answer', 'step1', 'step2', 'step3', 'diagnosis'], c);
  });

  it('a 429 (Retry-After: 1) on the answer itself: the steps and the diagnosis wait for it', async () => {
    stack.connector.failNext(429, 1);
    const { conversationId } = await stack.mention('check haproxy-http');
    await until(() => chain(conversationId).some((s) => kindOf(s) === 'diagnosis'), 'the diagnosis', 30_000);
    await until(() => chain(conversationId).some((s) => kindOf(s) === 'answer'), 'the answer', 30_000);
    assert.deepEqual(chain(conversationId).map(kindOf), ['answer', 'step1', 'step2', 'step3', 'diagnosis']);
  });

  it('the answer card loses its Cancel button when the check ends, by an update of that very card', async () => {
    const { conversationId } = await stack.mention('check haproxy-http');
    await until(() => chain(conversationId).some((s) => kindOf(s) === 'diagnosis'), 'the diagnosis');
    const ack = chain(conversationId)[0];
    assert.equal(kindOf(ack ?? ({ activity: {} } as SentActivity)), 'answer');
    assert.equal(cardActions(ack).length, 1, 'the answer offers Cancel while the check runs');
    await until(() => stack.connector.updates.some((u) => u.replyToId === ack?.id), 'the update of the answer card');
    const update = stack.connector.updates.find((u) => u.replyToId === ack?.id);
    assert.deepEqual(cardActions(update), [], 'no Cancel on a check that ended');
    assert.match(JSON.stringify(update?.activity.attachments), /Done: the diagnosis is in this reply chain/);
    assert.match(update?.activity.text ?? '', /^Queued chk-[0-9a-f]{10}: checking haproxy-http/);
  });

  it('a cancelled check: its answer card says so and offers no Cancel', async () => {
    await lab.faults.serversMisbehave('hang');
    const { conversationId } = await stack.mention('check haproxy-http');
    await until(() => chain(conversationId).length >= 1, 'the answer');
    const ack = chain(conversationId)[0];
    const id = /Queued (chk-[0-9a-f]{10})/.exec(ack ? shown(ack) : '')?.[1] ?? assert.fail('no answer');
    await stack.click('cancel', id, conversationId);
    await until(() => stack.connector.updates.some((u) => u.replyToId === ack?.id), 'the update of the answer card');
    const update = stack.connector.updates.find((u) => u.replyToId === ack?.id);
    assert.deepEqual(cardActions(update), []);
    assert.match(JSON.stringify(update?.activity.attachments), /Cancelled/);
  });
});

describe('Teams: watch until fixed', { timeout: 120_000 }, () => {
  // The intake's TEST-ONLY time scale: "--every 10s" runs every 200 ms.
  let w: TeamsStack;
  before(async () => {
    w = await startTeamsStack(lab, true, { watchTimeScale: 0.02 });
  });
  after(async () => {
    await w?.close();
  });
  const inChain = (conversationId: string): string[] =>
    w.connector.sent.filter((s) => s.conversationId === conversationId).map(shown);

  it('posts the first check in the reply chain, then only the change to none, and ends there', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const { conversationId } = await w.mention('watch nginx --every 10s --for 2h');
    await until(() => inChain(conversationId).some((t) => /^Watching nginx as wch-/.test(t)), 'the watch answer');
    const id = /Watching nginx as (wch-[0-9a-f]{10})/.exec(inChain(conversationId).join('\n'))?.[1] ?? '';
    await until(() => inChain(conversationId).some((t) => /^Diagnosis/.test(t)), 'the first diagnosis', 30_000);
    await lab.faults.clear();
    await until(
      () => inChain(conversationId).some((t) => t.includes(`Watch ${id} of nginx ended: no fault found`)),
      'the end of the watch',
      30_000,
    );
    const chainText = inChain(conversationId);
    assert.deepEqual(
      chainText
        .filter((t) => /^Diagnosis|^No fault found/.test(t))
        .map((t) => /^Diagnosis: [A-Z-]+|^No fault found/.exec(t)?.[0]),
      ['Diagnosis: PATH-TO-LB', 'No fault found'],
      chainText.join('\n'),
    );
    assert.equal(chainText.filter((t) => /Step 1/.test(t)).length, 1, 'steps of the first round only');
    assert.equal(chainText.at(-1), `Watch ${id} of nginx ended: no fault found. Last diagnosis: none.`);
  });
});
