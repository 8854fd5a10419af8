// `export [check-id]`: the incident export (issue 27 item 3) of the thread the command was typed in, or of the
// thread a check was posted in. The answer is a signed link to incident.md on the evidence pages
// (adapters/incident-route.ts renders it on request), or, when they are not served, the command that writes it
// on the bot host. Only a user who may read every check of that thread gets it (the rule of status and history).
import { incidentChecks } from '../../audit/incident-export.js';
import type { PostRecord } from '../../audit/audit-record.js';
import { CommandSyntaxError, type ChatCommand } from '../../commands/grammar.js';
import { isAdmin } from '../../policy/authorize.js';
import { mayCheck } from '../../policy/visibility.js';
import type { IntakeReply } from '../intake-types.js';
import { gate, visible, type CommandContext } from './command-context.js';
import { LATE, within } from '../../runtime/deadline.js';

type ExportCommand = Extract<ChatCommand, { kind: 'export' }>;

/** The id as one shell word for the printed command: a Teams thread id holds ";". */
const shellWord = (id: string): string => (/^[A-Za-z0-9._:@=-]+$/.test(id) ? id : `'${id.replace(/'/g, `'\\''`)}'`);

async function mayReadAll(ctx: CommandContext, checks: ReadonlyMap<string, PostRecord>): Promise<boolean> {
  for (const [checkId, first] of checks) if (!(await mayReadCheck(ctx, checkId, first))) return false;
  return true;
}

/** A check still in the pipeline's state is read by the status rule; an older one by where it was posted. */
async function mayReadCheck(ctx: CommandContext, checkId: string, first: PostRecord): Promise<boolean> {
  const record = await ctx.deps.state.getCheck(checkId);
  if (record) return visible(ctx, record);
  const { incoming, policy, vips } = ctx;
  if (isAdmin(policy, incoming.requester)) return true;
  if (first.platform === incoming.replyTo.platform && first.channel === incoming.replyTo.channel) return true;
  return mayCheck(policy, vips, incoming, first.target);
}

/**
 * Slack drops a command not answered within 3 s, and the answer is the ack: the audit log's first read (a large
 * log, just after a restart) may take longer. It goes on, and the next ask finds it done.
 */
const AUDIT_READ_BUDGET_MS = 1500;

export async function handleExport(cmd: ExportCommand, ctx: CommandContext): Promise<IntakeReply> {
  const denied = gate(ctx, { action: 'read' });
  if (denied) return denied;
  const { deps, incoming } = ctx;
  const id = cmd.id ?? incoming.replyTo.thread;
  if (id === undefined)
    throw new CommandSyntaxError(
      'give a check id: this platform did not say which thread the command was typed in',
      `${deps.prefix} export <check-id>`,
    );
  const where = cmd.id ? `the thread of ${cmd.id}` : 'this thread';
  const posts = deps.audit ? await within(deps.audit.index.current(), AUDIT_READ_BUDGET_MS) : [];
  if (posts === LATE)
    return {
      kind: 'refused',
      text: `the audit log is still being read (the first time since the bot started): ask again in a few seconds`,
    };
  const checks = incidentChecks(posts, [id]);
  // One check the asker may not read refuses the whole export, worded like no check: ids say nothing either.
  if (checks.size === 0 || !(await mayReadAll(ctx, checks)))
    return {
      kind: 'refused',
      text: `no checks in ${where} that you may read (the audit log may not hold them). See ${deps.prefix} history`,
    };
  const what = `${checks.size} check${checks.size === 1 ? '' : 's'}: ${[...checks.keys()].join(', ')}`;
  if (deps.incidentLink) {
    const link = deps.incidentLink([id]);
    return { kind: 'info', text: `Incident export of ${where} (${what}): ${link}`, link };
  }
  return {
    kind: 'info',
    text:
      `Incident export of ${where} (${what}): the evidence pages are not served here (LBCHECK_EVIDENCE_PORT is ` +
      `unset), so run on the bot host: lbcheck audit export --incident ${shellWord(id)}`,
  };
}
