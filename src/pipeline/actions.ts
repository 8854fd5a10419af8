// Buttons on lbcheck's messages (Re-run, Run all steps, Cancel, Watch). A
// click is a command by the clicking user: it becomes the command the button
// stands for and goes through the same intake (policy gate, rate limits,
// audit) as if that user had typed it.
import { CHECK_ID } from '../model/check-id.js';
import { handleCommand, type Incoming, type IntakeDeps, type IntakeReply } from './intake.js';
import { mayRead } from '../policy/visibility.js';
import { NO_POLICY } from '../policy/policy-types.js';
import type { CheckRequest } from '../model/jobs.js';

export const ACTION_KINDS = ['rerun', 'run-all', 'cancel', 'watch'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface ChatAction {
  kind: ActionKind;
  checkId: string;
}

export const ACTION_LABELS: Record<ActionKind, string> = {
  rerun: 'Re-run',
  'run-all': 'Run all steps',
  cancel: 'Cancel',
  watch: 'Watch',
};

/** A button's value as the platform returns it: never trusted, so checked like typed input. */
export function parseAction(kind: unknown, checkId: unknown): ChatAction | undefined {
  if (typeof kind !== 'string' || !(ACTION_KINDS as readonly string[]).includes(kind)) return undefined;
  if (typeof checkId !== 'string' || !CHECK_ID.test(checkId)) return undefined;
  return { kind: kind as ActionKind, checkId };
}

/** The typed command a re-run of this check stands for. */
function checkCommand(request: CheckRequest, all: boolean): string {
  return [
    request.target,
    ...(all ? ['--all'] : []),
    ...(request.members.length > 0 ? ['--members', request.members.join(',')] : []),
  ].join(' ');
}

/**
 * incoming: who clicked, where (the thread of the message the button is on); its text is ignored.
 * The checks named by buttons are looked up as `status <id>` would: one the clicker may not read is "no check".
 */
export async function handleAction(
  incoming: Omit<Incoming, 'text'>,
  action: ChatAction,
  deps: IntakeDeps,
): Promise<IntakeReply> {
  const as = (text: string, extra: Partial<Incoming> = {}): Promise<IntakeReply> =>
    handleCommand({ ...incoming, ...extra, text, via: 'button' }, deps);
  if (action.kind === 'cancel') return as(`cancel ${action.checkId}`);
  const record = await deps.state.getCheck(action.checkId);
  const inventory = deps.inventory();
  const visible =
    record && mayRead(inventory?.policy ?? NO_POLICY, inventory?.vips ?? new Map(), incoming, record)
      ? record
      : undefined;
  // Answered (and audited) as the status command the clicker could have typed.
  if (!visible) return as(`status ${action.checkId}`);
  const request = visible.request;
  if (action.kind === 'watch') return as(`watch ${request.target}`, { rerunOf: action.checkId });
  return as(checkCommand(request, action.kind === 'run-all' || request.all), { rerunOf: action.checkId });
}
