// `lbcheck serve` with Teams: the unauthenticated local mode only when asked
// for (TEAMS_LOCAL=1), announced and bound to 127.0.0.1; without it, or with an
// app id but no public URL for evidence links, it refuses to start and says why.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { deleteKeys, TEST_REDIS } from '../pipeline/harness.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));

function serve(env: Record<string, string>): {
  child: ReturnType<typeof spawn>;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      ...process.env,
      REDIS_URL: TEST_REDIS,
      LBCHECK_LOG: 'stderr',
      LBCHECK_CONFIG: '',
      MicrosoftAppId: '',
      TEAMS_LOCAL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

describe('lbcheck serve with Teams', () => {
  it('TEAMS_LOCAL=1: announces the unauthenticated local mode on 127.0.0.1 and warns in the log', async () => {
    const prefix = `lbt-${randomBytes(4).toString('hex')}`;
    const s = serve({ LBCHECK_PREFIX: prefix, TEAMS_PORT: '0', TEAMS_LOCAL: '1' });
    try {
      const deadline = Date.now() + 15_000;
      while (!s.out().includes('Teams messaging endpoint') && Date.now() < deadline && s.child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(
        s.out(),
        /platform: Teams \(port 0, UNAUTHENTICATED local mode \(TEAMS_LOCAL=1\): 127\.0\.0\.1 only\)/,
      );
      assert.match(s.out(), /Teams messaging endpoint: http:\/\/127\.0\.0\.1:\d+\/api\/messages \(unauthenticated/);
      assert.match(s.err(), /"level":"warn"[^\n]*"msg":"Teams runs UNAUTHENTICATED/);
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
      await deleteKeys(prefix);
    }
  });

  it('TEAMS_PORT without an app id or TEAMS_LOCAL: exits non-zero at once, naming both ways out, even with a watched inventory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbcheck-teams-'));
    const inventory = join(dir, 'inventory.yaml');
    writeFileSync(inventory, 'vips: {}\n');
    try {
      const s = serve({ TEAMS_PORT: '0', LBCHECK_CONFIG: inventory });
      assert.notEqual(await s.exit, 0);
      assert.match(s.err(), /MicrosoftAppId is not set: set MicrosoftAppId and MicrosoftAppPassword.*TEAMS_LOCAL=1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an app id without LBCHECK_PUBLIC_URL: refuses to start (evidence links would point at 127.0.0.1)', async () => {
    const s = serve({
      TEAMS_PORT: '0',
      MicrosoftAppId: '0f0f0f0f-1111-2222-3333-444444444444',
      MicrosoftAppPassword: 'secret',
      LBCHECK_TEAMS_TENANTS: 'tenant-a',
      LBCHECK_PUBLIC_URL: '',
    });
    assert.notEqual(await s.exit, 0);
    assert.match(s.err(), /LBCHECK_PUBLIC_URL is required with MicrosoftAppId/);
  });
});
