// Cancel says what is true: "stopped" is posted only once the process tables
// say so. A check is cancelled mid-step (servers that accept and never answer
// keep step 2 waiting) by the typed command and the Slack button (real Bolt
// over signed HTTP) and by the Teams action (real botbuilder); at the moment
// the cancelled notice reaches the fake platform, the LB namespace and this
// machine (the probing host) are searched for a capture of that VIP.
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { until } from './platform-base.js';
import { startSlackStack, type SlackStack } from '../slack/slack-stack.js';
import { startTeamsStack, type TeamsStack } from '../teams/teams-stack.js';

let lab: Lab;
let slack: SlackStack;
let teams: TeamsStack;

useLab(
  {
    serverCount: 2,
    heal: true,
    reset: () => {
      slack.fake.onCall = undefined;
      teams.connector.onSent = undefined;
    },
  },
  async (started, own) => {
    lab = started;
    slack = own(await startSlackStack(lab, true));
    teams = own(await startTeamsStack(lab, true));
  },
);

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

/** tcpdump (or its `timeout` wrapper) capturing traffic of this VIP, in the LB's namespace. */
function lbCaptures(vip: string): string[] {
  return lab
    .processes('lb')
    .map((p) => cmdline(p.pid))
    .filter((c) => c.includes('tcpdump') && c.includes(vip));
}

/** tcpdump capturing traffic of this VIP on this machine (the probing host: the worker runs in this process). */
function localCaptures(vip: string): string[] {
  const ours = readlinkSync('/proc/self/ns/net');
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readlinkSync(`/proc/${d}/ns/net`) === ours;
      } catch {
        return false;
      }
    })
    .map((d) => cmdline(Number(d)))
    .filter((c) => /(^|\/| )tcpdump /.test(c) && c.includes(vip));
}

interface Snapshot {
  notice: string;
  lb: string[];
  here: string[];
}

const vip = (): string => lab.vips['haproxy-http'].address;
const snapshot = (notice: string): Snapshot => ({ notice, lb: lbCaptures(vip()), here: localCaptures(vip()) });

/**
 * The cancelled notice (and, when it names something as still stopping, the follow-up) against the process tables
 * at the moment each reached the platform: what a post says stopped is gone, and what was still stopping is gone
 * when the follow-up says so. On an idle machine everything stops within the budget and there is no follow-up; on
 * a loaded one the notice may say "Still stopping" instead, which is true then, and the follow-up must come.
 */
async function assertStopped(seen: () => Snapshot | undefined, later: () => Snapshot | undefined): Promise<void> {
  const notice = seen();
  assert.ok(notice, 'the cancelled notice was posted');
  const still = /Still stopping: ([^;]*);/.exec(notice.notice)?.[1];
  const stopped = /Stopped before this message[^:]*: (.*?)\.(?: |$)/.exec(notice.notice)?.[1] ?? '';
  assert.ok(stopped !== '' || still !== undefined, `the notice says what stopped: ${notice.notice}`);
  const gone = (what: RegExp, captures: string[], where: string, text: string): void => {
    if (what.test(text)) assert.deepEqual(captures, [], `a capture still ran ${where} when "${text}" was posted`);
  };
  gone(/capture on the LB/, notice.lb, 'on the LB', stopped);
  gone(/capture on the probing host/, notice.here, 'on the probing host', stopped);
  if (still === undefined) {
    assert.deepEqual(notice.lb, [], `a capture still ran on the LB when "${notice.notice}" was posted`);
    assert.deepEqual(notice.here, [], `a capture still ran on the probing host when "${notice.notice}" was posted`);
    return;
  }
  await until(() => later() !== undefined, `the follow-up saying when ${still} stopped`, 30_000);
  const followUp = later();
  assert.ok(followUp);
  assert.deepEqual(followUp.lb, [], `a capture still ran on the LB when "${followUp.notice}" was posted`);
  assert.deepEqual(followUp.here, [], `a capture still ran on the probing host when "${followUp.notice}" was posted`);
}

/** The follow-up to a notice that named something as still stopping (stoppedLaterText). */
const isFollowUp = (id: string, text: string): boolean =>
  text.startsWith(`Check ${id}: `) && text.includes('after the cancelled notice (gone from the process table)');

const idOf = (body: string): string =>
  /Queued (chk-[0-9a-f]{10})/.exec(body)?.[1] ?? assert.fail(`not an ack: ${body}`);

/** Starts a check on Slack that waits in step 2, and the hook that snapshots the hosts when its notice arrives. */
async function slackCheckInStep2(): Promise<{
  id: string;
  seen: () => Snapshot | undefined;
  later: () => Snapshot | undefined;
}> {
  await lab.faults.serversMisbehave('hang');
  const id = idOf((await slack.slash('haproxy-http')).body);
  let seen: Snapshot | undefined;
  let later: Snapshot | undefined;
  slack.fake.onCall = (c) => {
    const text = c.args.text ?? '';
    if (c.method !== 'chat.postMessage') return;
    if (text.includes(`Check ${id} was cancelled`)) seen ??= snapshot(text);
    if (isFollowUp(id, text)) later ??= snapshot(text);
  };
  await until(() => slack.fake.threadOf(id).some((t) => /Step 1/.test(t)), 'step 1 in the thread');
  assert.notDeepEqual(
    lbCaptures(vip()),
    [],
    `the check captures on the LB while it runs: ${slack.fake.threadOf(id).join('\n')}`,
  );
  return { id, seen: () => seen, later: () => later };
}

const cancelledPost = (id: string) => (): boolean =>
  slack.audit.records().some((r) => r.type === 'post' && r.checkId === id && r.kind === 'cancelled');

describe('Cancel stops every capture of the check before it says so', { timeout: 120_000 }, () => {
  it('Slack, typed: /lbcheck cancel <id>', async () => {
    const check = await slackCheckInStep2();
    const answer = await slack.slash(`cancel ${check.id}`);
    assert.match(answer.body, new RegExp(`Cancell(ing|ed) ${check.id}`));
    await until(cancelledPost(check.id), 'the cancelled notice');
    await assertStopped(check.seen, check.later);
  });

  it('Slack, the Cancel button', async () => {
    const check = await slackCheckInStep2();
    const posts = slack.fake.callsOf('chat.postMessage');
    const i = posts.findIndex((c) => !c.args.thread_ts && (c.args.text ?? '').includes(check.id));
    await slack.click('cancel', check.id, { ts: `${1_700_000_000 + i}.000100` });
    await until(cancelledPost(check.id), 'the cancelled notice');
    await assertStopped(check.seen, check.later);
  });

  it('Teams, the Cancel action', async () => {
    await lab.faults.serversMisbehave('hang');
    const { conversationId } = await teams.mention('check haproxy-http');
    const chain = (): string[] =>
      teams.connector.sent
        .filter((s) => s.conversationId === conversationId)
        .map((s) => s.activity.text ?? s.activity.summary ?? '');
    await until(() => chain().some((t) => /Step 1/.test(t)), 'step 1 in the reply chain');
    const id = idOf(chain()[0] ?? '');
    let seen: Snapshot | undefined;
    let later: Snapshot | undefined;
    teams.connector.onSent = (s) => {
      const text = s.activity.text ?? s.activity.summary ?? '';
      if (text.includes(`Check ${id} was cancelled`)) seen ??= snapshot(text);
      if (isFollowUp(id, text)) later ??= snapshot(text);
    };
    assert.notDeepEqual(lbCaptures(vip()), [], 'the check captures on the LB while it runs');
    const r = await teams.click('cancel', id, conversationId);
    assert.match(r.body.value ?? '', new RegExp(`Cancell(ing|ed) ${id}`));
    await until(() => seen !== undefined, 'the cancelled notice');
    await assertStopped(
      () => seen,
      () => later,
    );
  });
});
