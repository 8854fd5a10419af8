// Teams chat that acts: Action.Execute buttons on the cards, a click as the
// clicker's command (answered to them only, in the invoke response), re-runs
// in the same reply chain with the diff, and server text kept as data. Real
// botbuilder over HTTP, the lab behind it, the fake connector recording.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitHealthy, type Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { until } from '../pipeline/platform-base.js';
import type { FakeConnector, SentActivity } from './fake-connector.js';
import { startTeamsStack, type TeamsStack } from './teams-stack.js';

let lab: Lab;
let stack: TeamsStack;
let connector: FakeConnector;

useLab({ serverCount: 2, heal: true }, async (started, own) => {
  lab = started;
  stack = own(await startTeamsStack(lab, true));
  connector = stack.connector;
});

const inChain = (conversationId: string): SentActivity[] =>
  connector.sent.filter((s) => s.conversationId === conversationId);
const shown = (s: SentActivity): string => s.activity.text ?? s.activity.summary ?? '';
const finals = (conversationId: string): SentActivity[] =>
  inChain(conversationId).filter((s) => /^(Diagnosis|No fault found)/.test(shown(s)));
const cardOf = (
  s: SentActivity | undefined,
): {
  body: { text?: string; facts?: { title: string; value: string }[] }[];
  actions?: { type: string; verb?: string; data?: { checkId?: string } }[];
} => (s?.activity.attachments?.[0]?.content ?? { body: [] }) as ReturnType<typeof cardOf>;

describe('Teams buttons', () => {
  it("the ack has Cancel, the diagnosis Re-run / Run all steps / Watch; run-all is the clicker's command, posted in the same chain with the diff", async () => {
    await lab.faults.dropBeforeLb('nginx');
    const { conversationId } = await stack.mention('check nginx');
    await until(() => finals(conversationId).length === 1, 'the first diagnosis');
    const ack = inChain(conversationId)[0];
    const first = /Queued (chk-[0-9a-f]{10})/.exec(ack?.activity.text ?? '')?.[1] ?? assert.fail('no ack');
    assert.deepEqual(
      cardOf(ack).actions?.map((x) => [x.type, x.verb, x.data?.checkId]),
      [['Action.Execute', 'lbcheck.cancel', first]],
    );
    const verbs = cardOf(finals(conversationId)[0])
      .actions?.filter((x) => x.type === 'Action.Execute')
      .map((x) => x.verb);
    assert.deepEqual(verbs, ['lbcheck.rerun', 'lbcheck.run-all', 'lbcheck.watch']);

    // A user the policy refuses: told so in the invoke response (the clicker only), nothing queued or posted.
    const sentBefore = connector.sent.length;
    const refused = await stack.click('run-all', first, conversationId, { user: 'aad-stranger' });
    assert.equal(refused.status, 200);
    assert.equal(refused.body.type, 'application/vnd.microsoft.activity.message');
    assert.match(refused.body.value ?? '', /^❌ Refused by the lbcheck policy: you \(teams:aad-stranger\)/);
    const audited = stack.audit.records().find((r) => r.type === 'command' && r.user === 'aad-stranger');
    assert.equal(
      audited?.type === 'command' ? [audited.command, audited.outcome].join(' ') : '',
      '[button] nginx --all refused',
    );

    await lab.faults.clear();
    await waitHealthy(lab);
    const clicked = await stack.click('run-all', first, conversationId);
    const second =
      /^Queued (chk-[0-9a-f]{10}): checking nginx \(all steps\)\. Each step's verdict follows in this reply chain/.exec(
        clicked.body.value ?? '',
      )?.[1] ?? assert.fail(clicked.body.value);
    await until(() => finals(conversationId).length === 2, 'the run-all diagnosis');
    assert.equal(
      connector.sent.length - sentBefore,
      4,
      '3 steps and the diagnosis, each once (the answer to the click went to the clicker)',
    );
    const since = cardOf(finals(conversationId)[1])
      .body.flatMap((b) => b.facts ?? [])
      .find((f) => f.title === `Since ${first}`);
    assert.match(since?.value ?? '', /step 1 reach: FAIL → PASS/);
    assert.match(since?.value ?? '', /culprit path-to-lb → none/);
    // The audit record follows the post (audit, then mark posted): wait for it rather than race it.
    await until(
      () => stack.audit.records().some((r) => r.type === 'post' && r.checkId === second && r.kind === 'final'),
      'the audit record of the run-all diagnosis',
    );
  });

  it('Cancel on the ack stops the running check', async () => {
    await lab.faults.serversMisbehave('hang');
    const { conversationId } = await stack.mention('check haproxy-http');
    await until(() => inChain(conversationId).length >= 1, 'the ack');
    const id =
      /Queued (chk-[0-9a-f]{10})/.exec(inChain(conversationId)[0]?.activity.text ?? '')?.[1] ?? assert.fail('no ack');
    const r = await stack.click('cancel', id, conversationId);
    assert.match(r.body.value ?? '', new RegExp(`Cancell(ing|ed) ${id}`));
    await until(
      () => inChain(conversationId).some((s) => shown(s).includes(`Check ${id} was cancelled by On Call`)),
      'the cancelled notice',
    );
    assert.equal((await stack.backend.state.getCheck(id))?.status, 'cancelled');
    assert.equal(finals(conversationId).length, 0);
  });

  it('a hostile status line reaches the card with its markdown neutralised', async () => {
    await lab.faults.serversMisbehave('hostile');
    const { conversationId } = await stack.mention('check dnat');
    await until(() => finals(conversationId).length === 1, 'the diagnosis');
    const step2 = inChain(conversationId).find((s) => /Step 2/.test(shown(s)));
    const text = JSON.stringify(cardOf(step2).body);
    assert.match(text, /\\\\\[click\\\\\]\(https:\/\/evil\.example\)/);
    assert.doesNotMatch(text, /(?<!\\\\)\[click(?<!\\\\)\]\(/);
    assert.match(text, /\\\\<!channel\\\\>/);
  });
});
