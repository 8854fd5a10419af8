// `lbcheck serve` with Teams configured but no app id: it runs, and says at
// startup that it is unauthenticated and for local use only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { deleteKeys, TEST_REDIS } from '../pipeline/harness.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));

describe('lbcheck serve with Teams', () => {
  it('announces the unauthenticated local mode and the messaging endpoint', async () => {
    const prefix = `lbt-${randomBytes(4).toString('hex')}`;
    const child = spawn(process.execPath, [cli, 'serve'], {
      env: {
        ...process.env,
        REDIS_URL: TEST_REDIS,
        LBCHECK_PREFIX: prefix,
        TEAMS_PORT: '0',
        MicrosoftAppId: '',
        LBCHECK_LOG: 'stderr',
        LBCHECK_CONFIG: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.resume();
    try {
      const deadline = Date.now() + 15_000;
      while (!out.includes('Teams messaging endpoint') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /platform: Teams \(port 0, UNAUTHENTICATED: no MicrosoftAppId set, for local use only\)/);
      assert.match(
        out,
        /Teams messaging endpoint: http\(s\):\/\/<this host>:\d+\/api\/messages \(unauthenticated: set MicrosoftAppId\/MicrosoftAppPassword for real Teams\)/,
      );
      assert.match(out, /WARNING: no policy section in the inventory|inventory: none/);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await deleteKeys(prefix);
    }
  });
});
