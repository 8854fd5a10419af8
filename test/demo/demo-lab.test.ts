// `npm run demo` driven by a script, as a reader would type: the lab starts,
// a VIP is checked, a fault is switched on and the verdict changes, an
// address the lab did not create is refused, and Ctrl-C leaves no namespace,
// link or slot behind. A demo killed outright is reaped by the next start.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const demoJs = fileURLToPath(new URL('./demo.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'lbcheck-demo-'));
const started: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGINT');
  rmSync(dataDir, { recursive: true, force: true });
});

class Demo {
  readonly child: ChildProcessWithoutNullStreams;
  output = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor() {
    this.child = spawn(process.execPath, [demoJs], { env: { ...process.env, LBCHECK_DEMO_DIR: dataDir } });
    started.push(this.child);
    this.child.stdout.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first match of re in the output after `from`; fails if the demo exits first. */
  async waitFor(re: RegExp, from = 0): Promise<RegExpExecArray> {
    for (;;) {
      const m = re.exec(this.output.slice(from));
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`demo exited before printing ${re}; output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Types a line and returns where its answer starts in the output. */
  type(line: string): number {
    const at = this.output.length;
    this.child.stdin.write(`${line}\n`);
    return at;
  }

  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }
}

function namespacesOf(runId: string): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => l.startsWith(`lbl-${runId}-`));
}

/** Whether a lab slot under /run/lbcheck-lab still records this run. */
function slotHeldBy(runId: string): boolean {
  const root = '/run/lbcheck-lab';
  if (!existsSync(root)) return false;
  return readdirSync(root).some((slot) => {
    try {
      return readFileSync(join(root, slot, 'record.json'), 'utf8').includes(`"runId":"${runId}"`);
    } catch {
      return false;
    }
  });
}

const linkExists = (runId: string): boolean => spawnSync('ip', ['link', 'show', `lbl${runId}`]).status === 0;

describe('npm run demo', () => {
  it('checks a VIP, shows the verdict change with a fault, refuses a non-lab address, and Ctrl-C tears down', async () => {
    const demo = new Demo();
    const lab = await demo.waitFor(/lab ([0-9a-f]{6}): namespaces .* addresses (198\.1[89]\.\d+)\.0\/22/);
    const [, runId = '', prefix = ''] = lab;
    await demo.waitFor(/quit, Ctrl-D or Ctrl-C tears the lab down/);
    assert.ok(namespacesOf(runId).length > 0, 'the lab namespaces exist while the demo runs');

    let at = demo.type('/lbcheck web-http');
    await demo.waitFor(/No fault found/, at);

    at = demo.type('fault drop-before-lb web-http');
    await demo.waitFor(/drop-before-lb web-http: ON/, at);
    at = demo.type('/lbcheck web-http');
    await demo.waitFor(/Diagnosis: PATH-TO-LB/, at);
    at = demo.type('faults');
    await demo.waitFor(/Faults on: drop-before-lb web-http/, at);
    at = demo.type('fault drop-before-lb web-http');
    await demo.waitFor(/drop-before-lb web-http: OFF/, at);

    // An alert fires: the check starts by itself, names the alert, and its resolve is said in its lines.
    at = demo.type('alert web-http');
    const [, alertCheck = ''] = await demo.waitFor(
      /check (chk-[0-9a-f]{10}) started; its lines follow by themselves/,
      at,
    );
    await demo.waitFor(new RegExp(`\\[${alertCheck}\\] ! Started by alert LbDown from Alertmanager`), at);
    await demo.waitFor(new RegExp(`\\[${alertCheck}\\] .*No fault found`), at);
    at = demo.type('alert web-http resolved');
    await demo.waitFor(new RegExp(`\\[${alertCheck}\\] ! Alert LbDown resolved at`), at);

    at = demo.type('fault no-such-fault');
    await demo.waitFor(/no fault "no-such-fault"; type `faults help`/, at);

    // An address inside the lab's own block that the lab never created: routed into the lab, and refused anyway.
    at = demo.type(`/lbcheck ${prefix}.200:80`);
    await demo.waitFor(/Refused by the lbcheck policy: .*outside the ranges/, at);

    demo.child.kill('SIGINT');
    const { code } = await demo.exit();
    assert.equal(code, 130, demo.output);
    assert.match(demo.output, /Ctrl-C: tearing the lab down/);
    assert.deepEqual(namespacesOf(runId), []);
    assert.equal(linkExists(runId), false, 'the root-namespace link is gone');
  });

  it('a demo killed with SIGKILL leaves its lab behind; the next demo start reaps it, and quit tears its own down', async () => {
    const killed = new Demo();
    const [, oldRun = ''] = await killed.waitFor(/lab ([0-9a-f]{6}): namespaces/);
    await killed.waitFor(/quit, Ctrl-D or Ctrl-C tears the lab down/);
    killed.child.kill('SIGKILL');
    await killed.exit();
    assert.ok(namespacesOf(oldRun).length > 0, 'SIGKILL gives no chance to tear down: the namespaces remain');

    const next = new Demo();
    const [, newRun = ''] = await next.waitFor(/lab ([0-9a-f]{6}): namespaces/);
    assert.deepEqual(namespacesOf(oldRun), [], 'the next start reaped the killed run');
    assert.equal(linkExists(oldRun), false);
    next.type('quit');
    const { code } = await next.exit();
    assert.equal(code, 0, next.output);
    assert.deepEqual(namespacesOf(newRun), []);
    assert.equal(slotHeldBy(oldRun), false, "the killed run's slot was released");
    assert.equal(slotHeldBy(newRun), false);
  });
});
