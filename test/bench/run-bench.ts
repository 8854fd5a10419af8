// `npm run bench`: builds the lab once and prints every benchmark's figures.
// Figures are measured, not asserted: tests never depend on wall-clock time.
import { startLab } from '../lab/lab.js';
import { benchAudit } from './audit-bench.js';
import { benchCli } from './cli-bench.js';
import { benchEngine } from './engine-bench.js';
import { benchLadder } from './ladder-bench.js';
import { benchPipeline } from './pipeline-bench.js';
import { benchSlack } from './slack-bench.js';
import { benchWarm } from './warm-bench.js';
import { benchTeams } from './teams-bench.js';
import { benchVerdicts } from './verdicts-bench.js';

const lab = await startLab();
try {
  console.log(`lbcheck benchmark · ${new Date().toISOString()} · node ${process.version}`);
  for (const l of await benchCli(lab)) console.log(l);
  for (const l of await benchWarm(lab)) console.log(l);
  for (const l of await benchEngine(lab)) console.log(l);
  for (const l of await benchVerdicts(lab)) console.log(l);
  for (const l of await benchPipeline(lab)) console.log(l);
  for (const l of await benchSlack(lab)) console.log(l);
  for (const l of await benchTeams(lab)) console.log(l);
  for (const l of await benchAudit()) console.log(l);
  for (const l of await benchLadder(lab)) console.log(l);
} finally {
  lab.teardown();
}
