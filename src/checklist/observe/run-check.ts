// Runs the checklist end to end in two phases per step: observe (captures,
// probes, SSH: observe-*.ts) then decide (pure: decide-check.ts). Each step is
// handed to onStep the moment it is decided, so chat can post it before the
// next one runs; the final report is decided from the whole observation. The
// state the steps share (sessions, captures, cancel, the onStep chain) is a
// CheckRun (check-run.ts).
import { withDefaults, type CheckOptions, type CheckTarget } from '../../target/check-target.js';
import { decideCheck, stopsTheCheck } from '../decide/decide-check.js';
import type { Evidence } from '../../model/evidence.js';
import type { CheckObservation } from '../observation.js';
import { SCHEMA_VERSION, type Report, type Step } from '../../model/report.js';
import { CheckCancelledError, CheckRun, type CheckDeps } from './check-run.js';

export {
  CANCEL_STOP_BUDGET_MS,
  captureBoundSeconds,
  CheckCancelledError,
  observedTarget,
  type CheckDeps,
} from './check-run.js';

export interface CheckOutcome {
  report: Report;
  evidence: Evidence[];
  /** Everything the I/O phase saw: re-deciding it gives the same report (fixtures are recorded from this). */
  observation: CheckObservation;
}

function reportOf(obs: CheckObservation, startedAt: Date, evidence: Evidence[]): Report {
  const decided = decideCheck(obs);
  const byName = new Map(evidence.map((e) => [e.name, e]));
  const withEvidence = decided.steps.map((s) => ({
    ...s,
    evidence: [...byName.values()]
      .filter((e) => e.name.startsWith(`step${s.step}-`))
      .map(({ name, sha256, bytes, mediaType }) => ({ name, sha256, bytes, mediaType })),
  })) as Step[];
  const t = obs.target;
  const nodes = obs.reach.nodes;
  const handler = nodes?.[obs.reach.handledBy ?? 0]?.label;
  return {
    schemaVersion: SCHEMA_VERSION,
    id: obs.id,
    target: {
      vip: t.vip,
      port: t.port,
      ...(handler ? { lb: handler } : t.lb ? { lb: t.lb } : {}),
      ...(nodes ? { lbGroup: nodes.map((n) => n.label) } : {}),
      ...(t.name ? { name: t.name } : {}),
      ...(t.tls ? { tls: true } : {}),
    },
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    steps: withEvidence,
    diagnosis: { ...decided.diagnosis, evidence: withEvidence.flatMap((s) => s.evidence.map((e) => e.name)) },
  };
}

export async function runCheck(input: CheckTarget, options: CheckOptions, deps: CheckDeps = {}): Promise<CheckOutcome> {
  const run = new CheckRun(withDefaults(input), options, deps);
  await run.openSessions();
  const goesOn = (step: Step | undefined): boolean => step === undefined || !stopsTheCheck(step, options.all);
  try {
    await run.startCaptures();
    const reachStep = await run.observeReach(); // Step 1: reach
    const modeStep = goesOn(reachStep) ? await run.observeMode() : undefined; // Step 2: mode
    if (goesOn(reachStep) && goesOn(modeStep)) await run.observeServers(modeStep); // Step 3: servers
  } catch (err) {
    if (!(err instanceof CheckCancelledError)) throw err;
    throw await run.cancelled();
  } finally {
    await run.close();
  }
  // Waited for after the captures are stopped, so the last PNG renders meanwhile: the report lists every
  // file with its sha256, that PNG's included.
  await run.allDelivered();
  const observed = run.observation;
  return { report: reportOf(observed, run.startedAt, run.evidence), evidence: run.evidence, observation: observed };
}
