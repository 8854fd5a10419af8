// `npm run bench`: builds the lab once and prints every benchmark's figures.
// Figures are measured, not asserted: tests never depend on wall-clock time.
// `npm run bench -- teams slack` runs only the pieces named (all when none is; `soak` and the single cases
// `slack-chat` (a part of `slack`) and `teams-latency` only when named).
import type { Lab } from '../lab/lab.js';
import { startLab } from '../lab/lab.js';
import { benchAudit } from './audit-bench.js';
import { benchCli } from './cli-bench.js';
import { benchCliFast } from './cli-fast-bench.js';
import { benchEngine } from './engine-bench.js';
import { benchLadder } from './ladder-bench.js';
import { benchPipeline } from './pipeline-bench.js';
import { benchSlack, benchSlackChat } from './slack-bench.js';
import { benchSoak } from './soak-bench.js';
import { benchWarm } from './warm-bench.js';
import { benchTeams, benchTeamsLatency } from './teams-bench.js';
import { benchVerdicts } from './verdicts-bench.js';

const PIECES: [string, (lab: Lab) => Promise<string[]>][] = [
  ['cli', benchCli],
  ['cli-fast', benchCliFast],
  ['warm', benchWarm],
  ['engine', benchEngine],
  ['verdicts', benchVerdicts],
  ['pipeline', benchPipeline],
  ['slack', benchSlack],
  ['teams', benchTeams],
  ['audit', () => benchAudit()],
  ['ladder', benchLadder],
];
/** Run only when named: the soak takes half an hour by default; the others are one case of a piece above, alone. */
const ON_REQUEST: [string, (lab: Lab) => Promise<string[]>][] = [
  ['soak', benchSoak],
  // The chat-latency part of `slack` alone (issue 28), without the two 20 s ack loads.
  ['slack-chat', benchSlackChat],
  ['teams-latency', benchTeamsLatency],
];

const wanted = process.argv.slice(2);
const ALL = [...PIECES, ...ON_REQUEST];
const unknown = wanted.filter((w) => !ALL.some(([name]) => name === w));
if (unknown.length > 0) {
  console.error(`unknown bench piece(s) ${unknown.join(', ')}; known: ${ALL.map(([n]) => n).join(', ')}`);
  process.exit(2);
}
const lab = await startLab();
try {
  console.log(`lbcheck benchmark · ${new Date().toISOString()} · node ${process.version}`);
  for (const [name, run] of wanted.length > 0 ? ALL : PIECES) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    for (const l of await run(lab)) console.log(l);
  }
} finally {
  lab.teardown();
}
