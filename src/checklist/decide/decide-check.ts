// The decide phase: a check's observation in, its steps and diagnosis out. No
// I/O and no clock: the same observation always decides the same way, which
// is what lets recorded lab observations (fixtures) test every rule.
import type { Packet } from '../../capture/packet.js';
import { diagnose } from './diagnose.js';
import type { CheckObservation } from '../observation.js';
import type { Diagnosis, ModeStep, ServersStep, Step } from '../../model/report.js';
import { decideModeStep } from './step-mode.js';
import { decidePairReach } from './step-pair.js';
import { decideReach } from './step-reach.js';
import { decideServers } from './step-servers.js';

export interface DecidedCheck {
  /** The steps decided so far, in order, without evidence (the runner attaches it). */
  steps: Step[];
  /** The packets that decided each step. */
  deciding: Record<number, Packet[]>;
  diagnosis: Diagnosis;
}

/** The seed's rule: stop at the first failing step, unless every step was asked for. */
export const stopsTheCheck = (step: Pick<Step, 'verdict'>, all: boolean): boolean => !all && step.verdict === 'fail';

function notRun(step: 2 | 3, failed: number): ModeStep | ServersStep {
  const common = {
    verdict: 'skipped' as const,
    summary: `Not run: step ${failed} failed. lbcheck stops at the first failing step (use --all to run every step).`,
    evidence: [],
    ms: 0,
  };
  if (step === 2) {
    return {
      ...common,
      step: 2,
      name: 'mode',
      mode: 'unknown',
      proxyKind: null,
      behaviour: 'not-connected',
      serverSide: [],
      timings: {},
    };
  }
  return { ...common, step: 3, name: 'servers', members: [] };
}

export function decideCheck(obs: CheckObservation): DecidedCheck {
  const { target, options } = obs;
  const steps: Step[] = [];
  const deciding: Record<number, Packet[]> = {};
  let stoppedAfter: 1 | 2 | undefined;

  const single = decideReach(target.vip, target.port, obs.reach);
  const { deciding: d1, ...reach } = decidePairReach(target.vip, target.port, obs.reach, single, target.activeActive);
  steps.push({ ...reach, evidence: [] });
  deciding[1] = d1;
  if (stopsTheCheck(reach, options.all)) stoppedAfter = 1;

  if (stoppedAfter !== undefined) steps.push(notRun(2, stoppedAfter));
  else if (obs.mode) {
    const { deciding: d2, ...mode } = decideModeStep(target, reach, obs.mode, {
      observedAt: obs.observedAt,
      connectMs: obs.reach.connect.ms,
    });
    steps.push({ ...mode, evidence: [] });
    deciding[2] = d2;
    if (stopsTheCheck(mode, options.all)) stoppedAfter = 2;
  }

  if (stoppedAfter !== undefined) steps.push(notRun(3, stoppedAfter));
  else if (obs.servers) steps.push({ ...decideServers(obs.servers, target.protocol), evidence: [] });

  const diagnosis = diagnose(steps, target.protocol);
  return { steps, deciding, diagnosis: stoppedAfter ? { ...diagnosis, stoppedAfter } : diagnosis };
}
