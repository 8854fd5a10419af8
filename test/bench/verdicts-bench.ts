// Issue 11's figures: how fast the pure decide phase turns recorded
// observations into verdicts, and what a busy LB (thousands of unrelated SYNs
// a second) costs a check compared with a quiet one, on the lab.
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import { runCheck } from '../../src/checklist/observe/run-check.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { checkOptions, labTarget } from '../checklist/lab-target.js';
import { SCENARIOS } from '../checklist/scenarios.js';
import { readFixture } from '../fixtures/fixture-files.js';
import type { Lab } from '../lab/lab.js';
import { line, median } from './stats.js';

const RUNS = 10;

function decideThroughput(): { perSecond: number; observations: number } {
  const observations = SCENARIOS.map((s) => readFixture(s.name).observation);
  const rounds = 50;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) for (const o of observations) decideCheck(o);
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: Math.round((rounds * observations.length) / seconds), observations: observations.length };
}

async function checkTimes(lab: Lab, session: SshSession): Promise<{ ms: number; culprit: string }[]> {
  const out: { ms: number; culprit: string }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const { report } = await runCheck(labTarget(lab, 'nginx'), checkOptions(), {
      session: () => Promise.resolve(session),
    });
    out.push({ ms: performance.now() - start, culprit: report.diagnosis.culprit });
  }
  return out;
}

export async function benchVerdicts(lab: Lab): Promise<string[]> {
  const out = ['Verdicts (issue 11): decide phase and busy LB'];
  const d = decideThroughput();
  out.push(
    line(
      `decide phase (${d.observations} recorded observations)`,
      `${d.perSecond}/s`,
      '> 1000 observations/s',
      d.perSecond > 1000,
    ),
  );
  const access = labTarget(lab, 'nginx').lb;
  if (!access) throw new Error('lab target without LB access');
  const session = await SshSession.open(access);
  try {
    await checkTimes(lab, session); // warm-up
    const quiet = await checkTimes(lab, session);
    const undo = await lab.faults.backgroundTraffic(5000);
    let busy: { ms: number; culprit: string }[];
    try {
      busy = await checkTimes(lab, session);
    } finally {
      await undo();
    }
    const q = Math.round(median(quiet.map((x) => x.ms)));
    const b = Math.round(median(busy.map((x) => x.ms)));
    const wrong = busy.filter((x) => x.culprit !== 'none').length;
    out.push(line('healthy nginx VIP, quiet LB (median of 10)', `${q} ms`));
    out.push(line('same, 5000 unrelated SYN/s at the LB (median)', `${b} ms`, '< 2 × quiet', b < 2 * q));
    out.push(line('  busy-LB checks not diagnosed "none"', `${wrong} of ${RUNS}`, '0', wrong === 0));
  } finally {
    session.close();
  }
  return out;
}
