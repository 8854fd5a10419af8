// Issue 12's figures: how long one step's ladder takes to draw (model, SVG,
// decode, PNG), median per diagram on the recorded captures and on real
// checks, and what it adds to the time to the first post: step 1's evidence is
// built before the step is handed to chat, so its render delays that post.
import { decodePcap } from '../../src/capture/pcap-stream.js';
import { runCheck } from '../../src/checklist/observe/run-check.js';
import { ladderEvidence } from '../../src/evidence/ladder-evidence.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { checkOptions, labTarget } from '../checklist/lab-target.js';
import { lbInterfaces, probeFixture } from '../evidence/fixture-flows.js';
import type { Lab } from '../lab/lab.js';
import { line, median } from './stats.js';

const RUNS = 15;
const CHECKS = 5;
const RENDER_TARGET_MS = 100;

function timeRender(render: () => unknown, runs = RUNS): number[] {
  render(); // first call loads resvg and the font
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    render();
    times.push(performance.now() - t);
  }
  return times;
}

export async function benchLadder(lab: Lab): Promise<string[]> {
  const out = ['ladder diagrams (issue 12): model + SVG + decode + PNG per step'];
  const t0 = performance.now();
  const first = probeFixture('dnat-healthy');
  ladderEvidence('step2', { title: 'cold', pcap: first, deciding: [], notes: [] });
  out.push(line('first render (loads resvg and the font)', `${Math.round(performance.now() - t0)} ms`));
  for (const name of ['dnat-healthy', 'dnat-server-silent', 'haproxy-503']) {
    const fx = probeFixture(name);
    let bytes = 0;
    const times = timeRender(() => {
      const ev = ladderEvidence('step2', {
        title: name,
        pcap: fx,
        deciding: fx.packets.slice(0, 1),
        notes: [],
        interfaces: lbInterfaces(),
      });
      bytes = ev.find((e) => e.name.endsWith('.png'))?.bytes ?? 0;
    });
    out.push(
      line(
        `${name} (${fx.packets.length} pkts, ${Math.round(bytes / 1024)} KB PNG) median`,
        `${median(times).toFixed(1)} ms`,
        `< ${RENDER_TARGET_MS} ms`,
        median(times) < RENDER_TARGET_MS,
      ),
    );
  }
  const session = await SshSession.open(
    labTarget(lab, 'haproxy-http').lb ?? (await Promise.reject(new Error('no LB'))),
  );
  try {
    const step1: number[] = [];
    const step2: number[] = [];
    for (let i = 0; i < CHECKS; i++) {
      const { evidence } = await runCheck(labTarget(lab, 'haproxy-http'), checkOptions(), {
        session: () => Promise.resolve(session),
      });
      for (const [n, into] of [
        [1, step1],
        [2, step2],
      ] as const) {
        const pcap = evidence.find((e) => e.name === `step${n}-lb.pcap`);
        if (!pcap) continue;
        const { packets } = decodePcap(pcap.data);
        into.push(
          median(
            timeRender(
              () =>
                ladderEvidence(`step${n}`, {
                  title: 'bench',
                  pcap: { packets },
                  deciding: packets.slice(0, 1),
                  notes: [],
                }),
              3,
            ),
          ),
        );
      }
    }
    out.push(
      line(
        'real healthy check, step 2, median',
        `${median(step2).toFixed(1)} ms`,
        `< ${RENDER_TARGET_MS} ms`,
        median(step2) < RENDER_TARGET_MS,
      ),
    );
    out.push(
      line(
        'added to first post (step 1 render) median',
        `${median(step1).toFixed(1)} ms`,
        `< ${RENDER_TARGET_MS} ms`,
        median(step1) < RENDER_TARGET_MS,
      ),
    );
  } finally {
    session.close();
  }
  return out;
}
