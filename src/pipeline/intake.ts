// Command intake: every adapter hands the text the user typed to one entry
// point, and gets back what to answer at once (the ack). Checks are queued,
// never run here: the ack must not wait on the network.
import type { AuditLog } from '../audit/audit-log.js';
import { CommandSyntaxError, parseCommand } from '../commands/grammar.js';
import { describeFailure } from '../errors.js';
import { errorFields, type Logger } from '../log.js';
import { recordCommand } from '../ops/metrics.js';
import { handleCancel } from './handlers/cancel-command.js';
import { handleCheck } from './handlers/check-command.js';
import { commandContext } from './handlers/command-context.js';
import { handleExport } from './handlers/export-command.js';
import { handleHelp, handleHistory, handleStatus } from './handlers/read-commands.js';
import { handleWatch } from './handlers/watch-command.js';
import type { Incoming, IntakeDeps, IntakeReply } from './intake-types.js';

export type { Incoming, IntakeDeps, IntakeReply } from './intake-types.js';
export { queuedText } from './handlers/check-command.js';

export async function handleCommand(incoming: Incoming, deps: IntakeDeps): Promise<IntakeReply> {
  const reply = await answer(incoming, deps);
  recordCommand(
    incoming.replyTo.platform,
    reply.kind === 'info' ? 'answered' : reply.kind === 'refused' && reply.error ? 'error' : reply.kind,
  );
  const written = deps.audit ? auditCommand(incoming, reply, deps.audit, deps.log) : undefined;
  // An adapter that must answer within a deadline (Slack's 3 s ack) answers first and awaits the write after.
  if (written && incoming.deferAudit) incoming.deferAudit(written);
  else await written;
  return reply;
}

/** The command's audit record, queued in order behind any write waiting for the lock; never rejects. */
function auditCommand(incoming: Incoming, reply: IntakeReply, audit: AuditLog, log: Logger): Promise<void> {
  const r = incoming.requester;
  // The user still gets the answer if the audit write fails; the failure is logged loudly.
  return audit
    .append({
      type: 'command',
      outcome: reply.kind === 'queued' ? 'queued' : reply.kind === 'refused' ? 'refused' : 'answered',
      command: `${incoming.via ? `[${incoming.via}] ` : ''}${incoming.text}`.slice(0, 500),
      platform: r.platform,
      user: r.id,
      ...(r.name ? { userName: r.name } : {}),
      channel: incoming.replyTo.channel,
      ...(reply.kind === 'queued' ? { checkId: reply.checkId, target: reply.request.target } : {}),
      ...(reply.kind === 'queued' && reply.vantages
        ? { vantages: reply.vantages.map((v) => ({ zone: v.zone, checkId: v.checkId })) }
        : {}),
      ...(reply.kind === 'refused' ? { reason: reply.text } : {}),
      ...(incoming.trigger ? { alert: incoming.trigger } : {}),
    })
    .then(
      () => undefined,
      (err: unknown) =>
        log.log('error', 'could not write the audit record of a command', {
          ...errorFields(err),
          command: incoming.text.slice(0, 200),
        }),
    );
}

async function answer(incoming: Incoming, deps: IntakeDeps): Promise<IntakeReply> {
  const log = deps.log.child({
    platform: incoming.replyTo.platform,
    user: incoming.requester.id,
    channel: incoming.replyTo.channel,
  });
  try {
    return await dispatch(incoming, deps);
  } catch (err) {
    if (err instanceof CommandSyntaxError) {
      log.log('info', 'command refused', { reason: err.message });
      return { kind: 'refused', text: err.message };
    }
    const failure = describeFailure(err);
    if (failure.kind === 'internal')
      log.log('error', 'command failed: internal error', { ...errorFields(err), ref: failure.ref });
    else if (failure.kind === 'unreachable')
      log.log('error', 'command failed: a dependency did not answer', errorFields(err));
    else log.log('info', 'command refused', { reason: failure.text });
    // internal / unreachable: the command could not be handled (counted as an error, not a refusal).
    const error = failure.kind === 'internal' || failure.kind === 'unreachable';
    return { kind: 'refused', text: failure.text, ...(error ? { error: true as const } : {}) };
  }
}

/** One handler per command (src/pipeline/handlers/), each with the same context. */
async function dispatch(incoming: Incoming, deps: IntakeDeps): Promise<IntakeReply> {
  const cmd = parseCommand(incoming.text, deps.prefix);
  const ctx = commandContext(incoming, deps);
  switch (cmd.kind) {
    case 'help':
      return handleHelp(ctx);
    case 'check':
      return handleCheck(cmd, ctx);
    case 'status':
      return handleStatus(cmd, ctx);
    case 'history':
      return handleHistory(cmd, ctx);
    case 'watch':
      return handleWatch(cmd, ctx);
    case 'cancel':
      return handleCancel(cmd, ctx);
    case 'export':
      return handleExport(cmd, ctx);
  }
}
