// The Slack platform on Bolt: the /lbcheck slash command in HTTP mode
// (request URL, signatures verified by Bolt's receiver) or Socket Mode (an
// app-level token), acked with the intake's answer before anything slow.
import {
  App,
  HTTPModuleFunctions,
  HTTPReceiver,
  LogLevel,
  SocketModeReceiver,
  type BlockAction,
  type ButtonAction,
} from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../src/errors.js';
import { parseEnv, slackSchema } from '../../src/runtime/settings.js';
import type { Logger } from '../../src/log.js';
import type { Incoming, IntakeReply } from '../../src/pipeline/intake.js';
import { parseAction, type ChatAction } from '../../src/pipeline/actions.js';
import { slackEscape } from '../../src/messages/escape.js';
import { ACTION_ID } from './slack-blocks.js';
import type { Policy } from '../../src/policy/policy-types.js';
import { boltLogger } from './bolt-logger.js';
import { GROUP_LOOKUP_TIMEOUT_MS, SlackGroupResolver, undecidedText } from './slack-groups.js';

/** A refusal by the policy (not by the grammar or a missing target): the one a slow group lookup can cause. */
const POLICY_REFUSAL = /^Refused by the lbcheck policy/;
import {
  guardSlackRequest,
  inMemoryClaims,
  RejectedSlackRequest,
  slackRequestHeaders,
  type ClaimOnce,
  type SlackRequestHeaders,
} from './slack-request-guard.js';
import { SlackPoster } from './slack-poster.js';

export interface SlackOptions {
  botToken: string;
  signingSecret: string;
  /** Socket Mode when set (xapp-...). */
  appToken?: string;
  /** Web API base, e.g. a GovSlack or proxy URL ending in /api/ (SLACK_API_URL). */
  apiUrl?: string;
  port: number;
  fileMaxBytes: number;
  intake: (incoming: Incoming) => Promise<IntakeReply>;
  /** A button click, as a command by the clicking user (handleAction); buttons answer "not available" without it. */
  action?: (incoming: Omit<Incoming, 'text'>, action: ChatAction) => Promise<IntakeReply>;
  log: Logger;
  /** The policy in force, to look up the Slack user groups it names. */
  policy?: () => Policy | undefined;
  /** Replay memory shared by the bot processes (Redis); this process's memory when absent. */
  claimOnce?: ClaimOnce;
  /** How long a slash command waits for a user-group lookup before the ack (default GROUP_LOOKUP_TIMEOUT_MS). */
  groupLookupTimeoutMs?: number;
}

export interface RunningSlack {
  poster: SlackPoster;
  /** The HTTP port the request URL must point at (HTTP mode). */
  port?: number;
  mode: 'http' | 'socket';
  /** auth.test with the bot token: undefined when Slack accepts it, else why not (for /readyz). */
  authProblem(): Promise<string | undefined>;
  close(): Promise<void>;
}

const { defaultProcessEventErrorHandler } = HTTPModuleFunctions;

/** Our queue retries posts with backoff and honours Retry-After; the client must not retry behind its back. */
function clientOptionsOf(opts: SlackOptions): {
  slackApiUrl?: string;
  retryConfig: { retries: 0 };
  rejectRateLimitedCalls: true;
} {
  return {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  };
}

/** Socket Mode with an app-level token, else HTTP with Bolt's signature checks on every endpoint. */
function receiverOf(
  opts: SlackOptions,
  clientOptions: ReturnType<typeof clientOptionsOf>,
  logger: ReturnType<typeof boltLogger>,
): SocketModeReceiver | HTTPReceiver {
  if (opts.appToken)
    // Socket Mode: apps.connections.open must also go to SLACK_API_URL, hence our own receiver.
    return new SocketModeReceiver({
      appToken: opts.appToken,
      installerOptions: { clientOptions },
      logger,
      logLevel: LogLevel.WARN,
    });
  return new HTTPReceiver({
    signingSecret: opts.signingSecret,
    logger,
    logLevel: LogLevel.WARN,
    // Interactivity (button clicks) at /slack/actions: the same receiver, so the same signature checks.
    endpoints: ['/slack/events', '/slack/commands', '/slack/actions'],
    // Bolt verified the signature (and the past half of the time window) before these run.
    customPropertiesExtractor: (req) => ({ ...slackRequestHeaders(req.headers) }),
    processEventErrorHandler: async (args) => {
      if (!(args.error instanceof RejectedSlackRequest)) return defaultProcessEventErrorHandler(args);
      opts.log.log('warn', 'slack request refused', { reason: args.error.message });
      if (!args.response.headersSent) args.response.writeHead(401).end();
      return false;
    },
  });
}

/**
 * The /lbcheck slash command. Everything before the ack is bounded (Slack drops a command not acked in 3 s):
 * the group lookup by its timeout, and the audit record is written after the ack (queued in order, never dropped).
 */
function handleSlashCommand(app: App, opts: SlackOptions, groups: SlackGroupResolver, groupTimeoutMs: number): void {
  app.command('/lbcheck', async ({ command, ack }) => {
    const lookup = await groups.groupsOf(command.user_id, opts.policy?.());
    let audited: Promise<void> | undefined;
    const reply = await opts.intake({
      requester: { platform: 'slack', id: command.user_id, name: command.user_name, groups: lookup.groups },
      // response_url: where results go if the bot may not post in the channel (not invited).
      replyTo: { platform: 'slack', channel: command.channel_id, extra: { responseUrl: command.response_url } },
      text: command.text,
      resultsWhere: "in the thread of lbcheck's message in this channel",
      deferAudit: (written) => {
        audited = written;
      },
    });
    const undecided = reply.kind === 'refused' && POLICY_REFUSAL.test(reply.text) && lookup.undecided.length > 0;
    // Plain text by contract (it may quote a server's status line or the LB's stderr): escaped, it is never mrkdwn.
    const text = slackEscape(undecided ? undecidedText(lookup.undecided, groupTimeoutMs) : reply.text);
    await ack({ response_type: 'ephemeral', text: reply.kind === 'refused' ? `:x: ${text}` : text });
    await audited;
  });
}

/** lbcheck's buttons: a click is a command by the clicking user, answered to the clicker only. */
function handleButtons(app: App, opts: SlackOptions, groups: SlackGroupResolver): void {
  app.action<BlockAction<ButtonAction>>(ACTION_ID, async ({ ack, body, action, respond }) => {
    await ack();
    // Answers go to the clicker only (ephemeral), refusals included.
    const tell = (text: string): Promise<unknown> =>
      respond({ response_type: 'ephemeral', replace_original: false, text });
    const parsed = parseAction(ACTION_ID.exec(action.action_id)?.[1], action.value);
    const channel = body.channel?.id;
    if (!parsed || !channel || !opts.action) {
      await tell(':x: lbcheck cannot act on that button (unknown action or channel); type the command instead.');
      return;
    }
    // The message the button is on: the thread's parent (ts) or a reply in it (thread_ts).
    const message = body.message as { ts?: unknown; thread_ts?: unknown } | undefined;
    const thread = message?.thread_ts ?? message?.ts;
    const reply = await opts.action(
      {
        requester: {
          platform: 'slack',
          id: body.user.id,
          ...(body.user.name ? { name: body.user.name } : {}),
          groups: (await groups.groupsOf(body.user.id, opts.policy?.())).groups,
        },
        replyTo: {
          platform: 'slack',
          channel,
          ...(typeof thread === 'string' ? { thread } : {}),
          extra: { responseUrl: body.response_url },
        },
        resultsWhere: 'in this thread',
      },
      parsed,
    );
    const text = slackEscape(reply.text); // plain text by contract, like the slash command's answer
    await tell(reply.kind === 'refused' ? `:x: ${text}` : text);
  });
}

export async function startSlack(opts: SlackOptions): Promise<RunningSlack> {
  const clientOptions = clientOptionsOf(opts);
  const logger = boltLogger(opts.log); // Bolt's own lines join the JSON log (warn and up)
  const receiver = receiverOf(opts, clientOptions, logger);
  const app = new App({ token: opts.botToken, receiver, clientOptions, logger, logLevel: LogLevel.WARN });
  if (receiver instanceof HTTPReceiver) {
    const fallback = inMemoryClaims();
    const claim = opts.claimOnce ?? fallback;
    app.use(async ({ context, next }) => {
      await guardSlackRequest(context as SlackRequestHeaders, claim, fallback);
      await next();
    });
  }
  const web = new WebClient(opts.botToken, { ...clientOptions, logger });
  const groupTimeoutMs = opts.groupLookupTimeoutMs ?? GROUP_LOOKUP_TIMEOUT_MS;
  const groups = new SlackGroupResolver(web, groupTimeoutMs);
  handleSlashCommand(app, opts, groups, groupTimeoutMs);
  handleButtons(app, opts, groups);
  app.error(async (err) => {
    // Rethrown so the receiver answers 401 instead of leaving the request to time out.
    if (err instanceof RejectedSlackRequest) throw err;
    opts.log.log('error', 'slack handler failed', { error: err.message });
    return Promise.resolve();
  });
  const started = (await app.start(opts.port)) as unknown;
  const port = receiver instanceof HTTPReceiver ? ((started as Server).address() as AddressInfo).port : undefined;
  const poster = new SlackPoster(web, opts.fileMaxBytes, opts.apiUrl ? [new URL(opts.apiUrl).origin] : []);
  return {
    poster,
    mode: opts.appToken ? 'socket' : 'http',
    authProblem: () =>
      web.auth.test().then(
        () => undefined,
        (err: unknown) =>
          `Slack refused the bot token (auth.test): ${err instanceof Error ? err.message : String(err)}`,
      ),
    ...(port !== undefined ? { port } : {}),
    close: () => app.stop().then(() => undefined),
  };
}

export function slackOptionsFromEnv(env: NodeJS.ProcessEnv): Omit<SlackOptions, 'intake' | 'log'> | undefined {
  const s = parseEnv(slackSchema, env, 'Slack configuration');
  const botToken = s.SLACK_BOT_TOKEN;
  if (!botToken) return undefined;
  const problems: string[] = [];
  if (!s.SLACK_SIGNING_SECRET && !s.SLACK_APP_TOKEN)
    problems.push('SLACK_SIGNING_SECRET is required for HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
  if (s.SLACK_APP_TOKEN && !s.SLACK_APP_TOKEN.startsWith('xapp-'))
    problems.push('SLACK_APP_TOKEN must be an app-level token (xapp-...)');
  if (problems.length > 0) throw new ConfigError(`Slack configuration: ${problems.join('; ')}`);
  return {
    botToken,
    signingSecret: s.SLACK_SIGNING_SECRET ?? '',
    ...(s.SLACK_APP_TOKEN ? { appToken: s.SLACK_APP_TOKEN } : {}),
    ...(s.SLACK_API_URL ? { apiUrl: s.SLACK_API_URL } : {}),
    port: s.SLACK_PORT,
    fileMaxBytes: s.LBCHECK_SLACK_FILE_MAX_BYTES,
  };
}
