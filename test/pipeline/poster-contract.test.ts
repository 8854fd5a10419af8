// The ChatPoster contract (poster-contract.ts) on the three posters: the
// console adapter writing to a buffer, Slack's poster on the real WebClient
// against the fake Web API, and Teams' poster on real botbuilder against the
// fake connector. No lab: it runs in seconds.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before } from 'node:test';
import { WebClient } from '@slack/web-api';
import { ConsoleAdapter } from '../../adapters/console/console-adapter.js';
import { SlackPoster } from '../../adapters/slack/slack-poster.js';
import type { RunningTeams } from '../../adapters/teams/teams-app.js';
import { FakeSlack, sectionsOf, type SlackCall } from '../slack/fake-slack.js';
import { FakeConnector } from '../teams/fake-connector.js';
import { startLocalTeams, teamsReference } from '../teams/local-teams.js';
import { posterContract, seenIn, seenOf, type PosterDriver } from './poster-contract.js';

let dir: string;
let slack: FakeSlack;
let connector: FakeConnector;
let teams: RunningTeams;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-poster-contract-'));
  slack = await new FakeSlack().start();
  connector = await new FakeConnector().start();
  teams = await startLocalTeams();
});
after(async () => {
  await teams.close();
  await connector.close();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The console: what it printed, line by line. */
function consoleDriver(): PosterDriver {
  let printed = '';
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      printed += chunk.toString('utf8');
      done();
    },
  });
  const poster = new ConsoleAdapter({
    input: new PassThrough(),
    output,
    evidenceDir: dir,
    user: 'oncall',
    intake: () => Promise.resolve({ kind: 'info' as const, text: 'unused' }),
  });
  const linesOf = (checkId: string): string[] =>
    printed
      .split('\n')
      .filter((l) => l.startsWith(`[${checkId}] `))
      .map((l) => l.slice(checkId.length + 3));
  return {
    poster,
    replyTo: () => ({ platform: 'console', channel: 'console' }),
    // A post's first line is not indented; its details are.
    seen: (checkId) => linesOf(checkId).flatMap((l) => (l.startsWith(' ') ? [] : [seenOf(l, false)])),
    // Named with the path the file was saved to.
    evidence: (checkId) =>
      linesOf(checkId).flatMap((l) => {
        const m = /^ {2}evidence \S+ sha256:([0-9a-f]{12}) \d+ B → (\S+)/.exec(l);
        return m?.[1] && m[2] && existsSync(m[2]) ? [m[1]] : [];
      }),
    evidenceRule: 'per-step',
  };
}

const RESPOND = '/respond/';
const CAPTURES = [/-both\.pcapng$/, /-lb\.pcapng$/, /\.pcapng$/, /\.pcap$/];

/** Slack: the check's parent message, then its thread; files by the bytes the fake received. */
function slackDriver(): PosterDriver {
  const web = new WebClient('xoxb-test', {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const poster = new SlackPoster(web, 1 << 20, [`http://127.0.0.1:${slack.port}`]);
  const replyTo = (channel: string) => (checkId: string) => ({
    platform: 'slack',
    channel,
    extra: { responseUrl: `http://127.0.0.1:${slack.port}${RESPOND}${checkId}` },
  });
  slack.notInChannel.add('C0NOTMEMBER');
  return {
    poster,
    replyTo: replyTo('C0INCIDENT'),
    seen: (checkId) => {
      const parent = slack.parentTs(checkId);
      return parent === undefined ? [] : ['answer', ...slack.threadSectionsOf(checkId).flatMap((t) => seenIn(t))];
    },
    evidence: (checkId) => {
      const parent = slack.parentTs(checkId);
      const shares = slack.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === parent);
      return shares.flatMap((c: SlackCall) =>
        (JSON.parse(c.args.files ?? '[]') as { id: string }[]).map((f) =>
          createHash('sha256')
            .update(slack.uploads.get(f.id) ?? '')
            .digest('hex')
            .slice(0, 12),
        ),
      );
    },
    evidenceRule: 'distinct',
    // As adapters/slack/slack-poster.ts ATTACH and CAPTURE_PREFERENCE choose: the PNG ladder and one capture.
    evidenceShown: (files) => {
      const capture = CAPTURES.map((p) => files.find((f) => p.test(f.name))).find((f) => f !== undefined);
      return [...files.filter((f) => f.name.endsWith('-ladder.png')), ...(capture ? [capture] : [])];
    },
    failNextPost: (status) => {
      // The diagnosis and the parent's update go out together: the update refused, the diagnosis is out already.
      slack.failNext('chat.update', status, status === 429 ? 0 : undefined);
      const method = `chat.update (failed ${status})`;
      const before = slack.callsOf(method).length;
      return () => slack.callsOf(method).length === before + 1;
    },
    notInChannel: {
      replyTo: replyTo('C0NOTMEMBER'),
      // The first message through the response_url is the answer (the parent the channel refused).
      seen: (checkId) =>
        slack.responses
          .filter((r) => r.path === `${RESPOND}${checkId}`)
          .flatMap((r, i) => {
            const text = typeof r.body.text === 'string' ? r.body.text : '';
            return i === 0 ? [seenOf(text, true)] : seenIn(sectionsOf(r.body.blocks, text));
          }),
    },
  };
}

let conversations = 0;

/** Teams: the activities sent into the check's reply chain; files by the sha256 its cards link. */
function teamsDriver(): PosterDriver {
  const chains = new Map<string, string>();
  const sentTo = (checkId: string) => connector.sent.filter((s) => s.conversationId === chains.get(checkId));
  return {
    poster: teams.poster,
    replyTo: (checkId) => {
      const conversation = `19:incident@thread.tacv2;messageid=${1_700_000_000_000 + ++conversations}`;
      chains.set(checkId, conversation);
      const reference = teamsReference(conversation, connector.serviceUrl, String(conversations));
      return { platform: 'teams', channel: '19:incident@thread.tacv2', extra: { reference } };
    },
    // The answer is the one activity with text; steps and the diagnosis are cards, their summary the headline.
    seen: (checkId) =>
      sentTo(checkId).map((s) => seenOf(s.activity.summary ?? s.activity.text ?? '', s.activity.summary === undefined)),
    // Each card links the exact bytes of its files (sha256-addressed, signed links).
    evidence: (checkId) =>
      sentTo(checkId).flatMap((s) => [
        ...new Set(
          [...JSON.stringify(s.activity.attachments ?? []).matchAll(/\/evidence\/([0-9a-f]{64})\//g)].map((m) =>
            (m[1] ?? '').slice(0, 12),
          ),
        ),
      ]),
    evidenceRule: 'per-step',
    failNextPost: (status) => {
      // The answer's update that follows the diagnosis (its Cancel button goes) is refused: the diagnosis is out.
      let armed = false;
      connector.onSent = (sent) => {
        if (armed || seenOf(sent.activity.summary ?? '', false) !== 'diagnosis') return;
        armed = true;
        connector.failNext(status, status === 429 ? 0 : undefined);
      };
      return () => {
        connector.onSent = undefined;
        return armed && connector.failures.length === 0;
      };
    },
  };
}

posterContract({
  name: 'console',
  notApplicable: {
    retry: 'no platform answers: it prints to a local stream',
    notInChannel: 'no channels: it prints where it was asked',
  },
  driver: consoleDriver,
});
posterContract({ name: 'Slack', notApplicable: {}, driver: slackDriver });
posterContract({
  name: 'Teams',
  notApplicable: {
    notInChannel:
      "Teams has no fallback like Slack's response_url: a reply the connector refuses is retried by the queue",
  },
  driver: teamsDriver,
});
