// A capture on the LB never outlives lbcheck's SSH connection (issue 28): the path to the LB's sshd goes silent
// mid-capture (the router drops it both ways, so neither end sees the connection close) and tcpdump on the LB is
// gone, read from the LB namespace's process table, well before the capture's own time bound: as root, through a
// worker's shared capture, and through the sudo capture helper. A helper from before the heartbeat is refused
// with a message that says to reinstall it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { DEFAULT_CAPTURE_LIMITS, RemoteCapture } from '../../src/capture/remote-capture.js';
import { lbCaptureFilter, lbFlowFilter } from '../../src/capture/capture-filter.js';
import { CAPTURE_HEARTBEAT, CAPTURE_HELPER_PROTOCOL, captureHelperScript } from '../../src/remote/lb-helpers.js';
import type { LbAccess } from '../../src/remote/lb-access.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { startLab, type Lab } from '../lab/lab.js';
import { LAB_SUDO_USER } from '../lab/sshd.js';
import { labLbAccess, sudoLbAccess } from '../checklist/lab-target.js';
import { allowLbcheckSudo, removeLbAccess, setLabSudoRules } from '../checklist/sudo-rules.js';

let lab: Lab;
const sessions: SshSession[] = [];
before(async () => {
  lab = await startLab();
});
after(() => lab.teardown());
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await lab.faults.clear();
});

/** The capture's own time bound: far longer than the heartbeat's, so only the heartbeat can end it in time. */
const CAPTURE_SECONDS = 120;
/** Heartbeats missed, then SIGINT and tcpdump's exit; generous for a loaded machine, far below the bound. */
const GONE_WITHIN_MS = (CAPTURE_HEARTBEAT.missedAfterS + 6) * 1000;

const tcpdumps = (): number[] =>
  lab
    .processes('lb')
    .filter((p) => p.name === 'tcpdump')
    .map((p) => p.pid);

async function until(test: () => boolean, withinMs: number): Promise<number | undefined> {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > withinMs) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - start;
}

function flowLimits() {
  const v = lab.vips.nginx;
  const input = { vip: v.address, port: v.port, sourcePort: 40123, members: [], sshPort: lab.sshInfo.port };
  return { ...DEFAULT_CAPTURE_LIMITS, maxSeconds: CAPTURE_SECONDS, ...lbFlowFilter(input) };
}

async function open(access: LbAccess): Promise<SshSession> {
  const s = await SshSession.open(access);
  sessions.push(s);
  return s;
}

/** Starts the capture, drops the SSH path, and returns how long tcpdump then lived on the LB (fails past the bound). */
async function dropPathUnder(start: () => Promise<RemoteCapture>): Promise<number> {
  assert.deepEqual(tcpdumps(), [], 'a tcpdump was running before the test');
  const capture = await start();
  assert.equal(tcpdumps().length, 1, 'the capture runs on the LB');
  // A few heartbeats go through first: a capture with a live connection is not ended by them.
  await new Promise((r) => setTimeout(r, CAPTURE_HEARTBEAT.everyMs * (CAPTURE_HEARTBEAT.missedAfterS + 1)));
  assert.equal(tcpdumps().length, 1, 'the capture stopped while its connection was alive');
  await lab.faults.sshPathDropped();
  const lived = await until(() => tcpdumps().length === 0, GONE_WITHIN_MS);
  const left = tcpdumps();
  // Kill what the assertion found, so one failure does not spill into the next test.
  for (const pid of left) process.kill(pid, 'SIGKILL');
  assert.ok(
    lived !== undefined,
    `tcpdump ${left.join(', ')} still ran ${GONE_WITHIN_MS} ms after the SSH path was lost`,
  );
  void capture.stop();
  return lived;
}

describe('a remote capture ends with its SSH connection', () => {
  it('as root: tcpdump is gone from the LB soon after the path to its sshd goes silent', async () => {
    const session = await open(labLbAccess(lab));
    await dropPathUnder(() => RemoteCapture.start(session, flowLimits()));
  });

  it("a worker's shared capture (which relays count requests on the same stdin) ends the same way", async () => {
    const session = await open(labLbAccess(lab));
    const v = lab.vips.nginx;
    const filter = lbCaptureFilter({
      vip: v.address,
      port: v.port,
      sourcePort: { first: 40000, last: 40999 },
      members: [],
      sshPort: lab.sshInfo.port,
    });
    await dropPathUnder(async () => {
      const capture = await RemoteCapture.startShared(session, { ...flowLimits(), filter });
      // The count requests still reach tcpdump: the heartbeat's empty lines are not taken for them.
      const counted = new Promise<void>((resolve) => capture.onStats(() => resolve()));
      capture.requestStats();
      await counted;
      return capture;
    });
  });

  it('through sudo: the capture helper reads the heartbeat and ends tcpdump (root-owned, out of the account’s reach)', async () => {
    await allowLbcheckSudo(lab);
    const session = await open(sudoLbAccess(lab));
    await dropPathUnder(() => RemoteCapture.start(session, flowLimits()));
    assert.deepEqual(
      lab.processNames('lb').filter((n) => n === 'lbcheck-capture'),
      [],
      'the helper itself ended too',
    );
  });

  it('a capture helper from before the heartbeat is refused, and the error says to reinstall it', async () => {
    const sudo = lab.sshd?.sudo;
    assert.ok(sudo);
    // The earlier helper: the same script speaking the earlier protocol (it refuses any other).
    const old = captureHelperScript(['any']).replaceAll(CAPTURE_HELPER_PROTOCOL, 'v1');
    writeFileSync(join(sudo.helperDir, 'lbcheck-capture'), old, { mode: 0o755 });
    setLabSudoRules(lab, [`${LAB_SUDO_USER} ALL=(root) NOPASSWD: /usr/local/sbin/lbcheck-capture`]);
    const session = await open(sudoLbAccess(lab));
    const err = await RemoteCapture.start(session, flowLimits())
      .then(
        () => assert.fail('an old helper ran the capture'),
        (e: Error & { hint?: string }) => e,
      )
      .finally(() => removeLbAccess(lab));
    assert.match(
      err.message,
      /capture helper on .* is from another lbcheck version and refused this one's protocol v2/,
    );
    assert.match(err.message, /another protocol than v1/);
    assert.match(err.hint ?? '', /^reinstall the helper: on the LB, run as root the install script `lbcheck sudoers`/);
  });
});
