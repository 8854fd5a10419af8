// The commands that only read: help, status (one check or those in flight) and history. Each shows only the
// checks the asker may read.
import { helpText, type ChatCommand } from '../../commands/grammar.js';
import type { CheckRecord } from '../../model/jobs.js';
import type { IntakeReply } from '../intake-types.js';
import { gate, visible, type CommandContext } from './command-context.js';

type StatusCommand = Extract<ChatCommand, { kind: 'status' }>;
type HistoryCommand = Extract<ChatCommand, { kind: 'history' }>;

function describe(r: CheckRecord): string {
  const req = r.request;
  const head =
    `${req.checkId} · ${req.target} · ${r.status}${r.culprit ? ` · culprit ${r.culprit}` : ''} · by ` +
    `${req.requester.name ?? req.requester.id} at ` +
    `${req.requestedAt}${req.rerunOf ? ` · re-run of ${req.rerunOf}` : ''}`;
  return head;
}

/** One target's checks oldest first, and how its culprit went: what happened during the incident. */
function sequenceText(target: string, newestFirst: CheckRecord[]): string {
  const oldestFirst = [...newestFirst].reverse();
  const culprits = oldestFirst.map((r) => r.culprit ?? r.status);
  return [
    `Checks of ${target}, oldest first:`,
    ...oldestFirst.map((r) => `  ${describe(r)}`),
    `Culprit over time: ${culprits.join(' → ')}`,
  ].join('\n');
}

export function handleHelp(ctx: CommandContext): IntakeReply {
  return { kind: 'info', text: helpText(ctx.deps.prefix) };
}

export async function handleStatus(cmd: StatusCommand, ctx: CommandContext): Promise<IntakeReply> {
  const denied = gate(ctx, { action: 'read' });
  if (denied) return denied;
  const { deps } = ctx;
  if (!cmd.id) {
    const flying = (await deps.state.inFlight()).filter((r) => visible(ctx, r));
    return {
      kind: 'info',
      text:
        flying.length === 0
          ? 'No checks queued or running.'
          : ['Checks in flight:', ...flying.map((r) => `  ${describe(r)}`)].join('\n'),
    };
  }
  const found = await deps.state.getCheck(cmd.id);
  // A check this user may not read answers like one that does not exist: its id says nothing either.
  const r = found && visible(ctx, found) ? found : undefined;
  if (!r) return { kind: 'refused', text: `no check ${cmd.id} (it may have expired). See ${deps.prefix} history` };
  return {
    kind: 'info',
    text: [
      describe(r),
      ...r.steps.map((s) => `  step ${s.step} ${s.name}: ${s.verdict.toUpperCase()} · ${s.summary}`),
      ...(r.diagnosis ? [`  diagnosis: ${r.diagnosis}`] : []),
      ...(r.error ? [`  error: ${r.error}`] : []),
    ].join('\n'),
  };
}

export async function handleHistory(cmd: HistoryCommand, ctx: CommandContext): Promise<IntakeReply> {
  const denied = gate(ctx, { action: 'read' });
  if (denied) return denied;
  const list = (await ctx.deps.state.history(cmd.target, 200)).filter((r) => visible(ctx, r)).slice(0, 10);
  if (list.length === 0)
    return { kind: 'info', text: cmd.target ? `No checks of ${cmd.target} yet.` : 'No checks yet.' };
  if (cmd.target) return { kind: 'info', text: sequenceText(cmd.target, list) };
  return { kind: 'info', text: ['Recent checks:', ...list.map((r) => `  ${describe(r)}`)].join('\n') };
}
