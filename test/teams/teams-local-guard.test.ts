// Teams local mode (TEAMS_LOCAL=1) has no authentication: these requests are
// what a web page in the operator's browser, or a DNS-rebinding host, can
// send to it. Each is sent over real HTTP to the running adapter (real
// botbuilder) and must be refused with a reason, reach no intake, and make
// the bot send nothing anywhere; the same request done right is answered.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RunningTeams } from '../../adapters/teams/teams-app.js';
import type { Incoming } from '../../src/pipeline/intake.js';
import { FakeConnector } from './fake-connector.js';
import { startLocalTeams } from './local-teams.js';

let connector: FakeConnector;
let teams: RunningTeams;
const seen: Incoming[] = [];

before(async () => {
  connector = await new FakeConnector().start();
  teams = await startLocalTeams({
    intake: (incoming) => {
      seen.push(incoming);
      return Promise.resolve({ kind: 'info', text: 'help text' });
    },
  });
});
after(async () => {
  await teams?.close();
  await connector?.close();
});
beforeEach(() => {
  seen.length = 0;
  connector.sent.length = 0;
});

function activity(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'message',
    id: '1',
    serviceUrl: connector.serviceUrl,
    channelId: 'msteams',
    from: { id: '29:user', aadObjectId: 'aad-oncall' },
    conversation: { id: 'a:personal', conversationType: 'personal', tenantId: 'tenant-lab' },
    recipient: { id: '28:bot' },
    text: 'help',
    ...overrides,
  };
}

/** A raw HTTP request to the adapter, so that Host, Origin and Content-Type are exactly what an attacker sends. */
function send(opts: {
  body?: string;
  headers?: Record<string, string>;
  method?: string;
  path?: string;
}): Promise<{ status: number; text: string }> {
  const body = opts.body ?? JSON.stringify(activity());
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: teams.port,
        method: opts.method ?? 'POST',
        path: opts.path ?? '/api/messages',
        headers: {
          host: `127.0.0.1:${teams.port}`,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(opts.method === 'GET' ? undefined : body);
  });
}

function nothingHappened(): void {
  assert.equal(seen.length, 0, 'the intake saw the request');
  assert.equal(connector.sent.length, 0, 'the bot sent a reply');
}

describe('Teams local mode: what a local program may do', () => {
  it('a JSON activity addressed to 127.0.0.1 or localhost with the bound port, no Origin, a loopback serviceUrl, is answered', async () => {
    for (const host of [`127.0.0.1:${teams.port}`, `localhost:${teams.port}`, `LOCALHOST:${teams.port}`]) {
      const { status } = await send({ headers: { host, 'content-type': 'application/json; charset=utf-8' } });
      assert.equal(status, 200, host);
    }
    assert.equal(seen.length, 3);
    assert.equal(connector.sent.length, 3);
  });
});

describe('Teams local mode: what a web page may not do', () => {
  it('a text/plain POST (no CORS preflight) is refused with 415, saying JSON only', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const { status, text } = await send({ headers: { 'content-type': type } });
      assert.equal(status, 415, type);
      assert.equal(text, 'Teams local mode accepts only content-type application/json');
    }
    const { status } = await send({ headers: { 'content-type': '' } });
    assert.equal(status, 415);
    nothingHappened();
  });

  it('a request carrying Origin is refused with 403, even as JSON from a loopback origin', async () => {
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${teams.port}`]) {
      const { status, text } = await send({ headers: { origin } });
      assert.equal(status, 403, origin);
      assert.match(text, /refuses requests from web pages \(this one carries an Origin header\)/);
    }
    nothingHappened();
  });

  it('a Host that is not loopback with the bound port (DNS rebinding) is refused with 421, messages and evidence alike', async () => {
    for (const host of [
      `rebind.evil.example:${teams.port}`,
      `127.0.0.1.evil.example:${teams.port}`,
      `127.0.0.1:${teams.port + 1}`,
      '127.0.0.1',
      'localhost',
      `0.0.0.0:${teams.port}`,
    ]) {
      const { status, text } = await send({ headers: { host } });
      assert.equal(status, 421, host);
      assert.match(text, new RegExp(`the Host header must be 127\\.0\\.0\\.1:${teams.port}, localhost:${teams.port}`));
      const evidence = await send({ method: 'GET', path: `/evidence/${'a'.repeat(64)}/x.pcap`, headers: { host } });
      assert.equal(evidence.status, 421, host);
    }
    nothingHappened();
  });

  it('an activity whose serviceUrl is not on loopback is refused with 403 and nothing is posted there', async () => {
    // 0.0.0.0 is not loopback, yet Linux delivers it to this machine: were it not refused, the fake Connector
    // would receive the reply (and nothing ever leaves this machine).
    const offLoopback = `http://0.0.0.0:${connector.port}/`;
    for (const serviceUrl of [offLoopback, `ftp://127.0.0.1:${connector.port}/`, 'not a url', 42]) {
      const { status, text } = await send({ body: JSON.stringify(activity({ serviceUrl })) });
      assert.equal(status, 403, String(serviceUrl));
      assert.match(text, /replies only to a serviceUrl on this machine/);
    }
    nothingHappened();
  });
});
