// Who gets into the Teams endpoint. Requests carry tokens signed as the Bot
// Framework signs them (a local issuer stands in for login.botframework.com,
// through Bot Framework's own BotOpenIdMetadata setting) and go to real
// botbuilder over HTTP; replies go to the local fake Connector.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTeams, type RunningTeams, type TeamsCredentialsFactory } from '../../adapters/teams/teams-app.js';
import { teamsOptionsFromEnv } from '../../adapters/teams/teams-env.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { Incoming } from '../../src/pipeline/intake.js';
import { FakeBotIssuer } from './fake-bot-issuer.js';
import { FakeConnector } from './fake-connector.js';

const APP = '0f0f0f0f-1111-2222-3333-444444444444';

/** Replies need an Azure AD token, which cannot be fetched here: this factory signs with a fixed one. */
const labCredentials = {
  isValidAppId: (id: string) => Promise.resolve(id === APP),
  isAuthenticationDisabled: () => Promise.resolve(false),
  createCredentials: () =>
    Promise.resolve({
      signRequest: <T extends { headers: { set(name: string, value: string): void } }>(r: T): Promise<T> => {
        r.headers.set('authorization', 'Bearer lab-outbound-token');
        return Promise.resolve(r);
      },
    }),
} as unknown as TeamsCredentialsFactory;

let issuer: FakeBotIssuer;
let connector: FakeConnector;
let teams: RunningTeams;
const seen: Incoming[] = [];

before(async () => {
  issuer = await new FakeBotIssuer().start();
  connector = await new FakeConnector().start();
  teams = await startTeams({
    appId: APP,
    appPassword: 'secret',
    port: 0,
    allowedTenants: ['tenant-lab'],
    serviceUrlHosts: ['127.0.0.1'],
    openIdMetadataUrl: issuer.metadataUrl,
    credentialsFactory: labCredentials,
    publicUrl: 'https://lbcheck.lab.test',
    linkSecret: 'k',
    linkTtlSeconds: 60,
    evidence: () => Promise.resolve(undefined),
    log: createLogger('silent'),
    intake: (incoming) => {
      seen.push(incoming);
      return Promise.resolve({ kind: 'info', text: 'help text' });
    },
  });
});
after(async () => {
  await teams?.close();
  await connector?.close();
  await issuer?.close();
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
    channelData: { tenant: { id: 'tenant-lab' } },
    text: 'help',
    ...overrides,
  };
}

async function post(body: Record<string, unknown>, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${teams.port}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const signedFor = (a: Record<string, unknown>): string => issuer.token(APP, String(a.serviceUrl));

describe('Teams with an app id', () => {
  it('an activity signed by the Bot Framework reaches the intake and is answered through its serviceUrl', async () => {
    const a = activity();
    const { status } = await post(a, signedFor(a));
    assert.equal(status, 200);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.requester.id, 'aad-oncall');
    assert.equal(connector.sent.length, 1);
  });

  it('refuses a signed activity from another channel than msteams', async () => {
    const a = activity({ channelId: 'webchat' });
    const { status, text } = await post(a, signedFor(a));
    assert.equal(status, 403);
    assert.equal(text, 'forbidden');
    assert.equal(seen.length, 0);
    assert.equal(connector.sent.length, 0);
  });

  it('refuses a signed activity from a tenant outside the allow-list, wherever the tenant is named', async () => {
    for (const a of [
      activity({ channelData: { tenant: { id: 'tenant-other' } } }),
      activity({ conversation: { id: 'a:personal', tenantId: 'tenant-other' } }),
      activity({ conversation: { id: 'a:personal' }, channelData: {} }),
    ]) {
      const { status } = await post(a, signedFor(a));
      assert.equal(status, 403);
    }
    assert.equal(seen.length, 0);
  });

  it('refuses a signed activity whose serviceUrl (where replies go) is not an allowed host', async () => {
    // 127.0.0.2 is loopback too, but not in the allow-list: nothing may be sent there.
    const a = activity({ serviceUrl: 'http://127.0.0.2:9/' });
    const { status } = await post(a, signedFor(a));
    assert.equal(status, 403);
    assert.equal(seen.length, 0);
  });

  it('a forged or mismatched token gets 401 and no detail of why', async () => {
    const a = activity();
    const forged = `${signedFor(a).slice(0, -8)}AAAAAAAA`;
    const other = issuer.token(APP, 'http://127.0.0.1:1/');
    for (const token of [forged, other, 'not.a.jwt']) {
      const { status, text } = await post(a, token);
      assert.equal(status, 401);
      assert.equal(text, 'unauthorized');
    }
    assert.equal(seen.length, 0);
  });

  it('without an Authorization header it answers 401 before reading the body', async () => {
    // Declares 500 MB and sends 1 KB: only an answer that does not wait for the body arrives.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: teams.port,
          method: 'POST',
          path: '/api/messages',
          headers: { 'content-type': 'application/json', 'content-length': String(500 * 1024 * 1024) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(1024, 0x20));
    });
    assert.equal(status, 401);
  });

  it('answers 413 to a body over 256 KB, declared or streamed', async () => {
    const a = activity({ text: 'x'.repeat(300 * 1024) });
    assert.equal((await post(a, signedFor(activity()))).status, 413);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: teams.port,
          method: 'POST',
          path: '/api/messages',
          headers: {
            'content-type': 'application/json',
            'transfer-encoding': 'chunked',
            authorization: `Bearer ${signedFor(activity())}`,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 5; i++) req.write(chunk);
    });
    assert.equal(streamed, 413);
    assert.equal(seen.length, 0);
  });
});

describe('Teams without an app id', () => {
  it('refuses to start unless local mode is asked for, and then listens on 127.0.0.1 only', async () => {
    const base = {
      appId: '',
      appPassword: '',
      port: 0,
      linkSecret: 'k',
      linkTtlSeconds: 60,
      evidence: () => Promise.resolve(undefined),
      log: createLogger('silent'),
      intake: () => Promise.resolve({ kind: 'info' as const, text: '' }),
    };
    await assert.rejects(startTeams(base), ConfigError);
    const local = await startTeams({ ...base, local: true });
    try {
      assert.equal(local.host, '127.0.0.1');
      assert.equal(local.authenticated, false);
    } finally {
      await local.close();
    }
  });
});

describe('Teams settings from the environment', () => {
  const auth = {
    MicrosoftAppId: APP,
    MicrosoftAppPassword: 'secret',
    LBCHECK_PUBLIC_URL: 'https://lbcheck.example.com',
    LBCHECK_TEAMS_TENANTS: 'tenant-a, tenant-b',
  };
  it('a port without an app id is an error that names TEAMS_LOCAL, not a silently open bot', () => {
    assert.throws(() => teamsOptionsFromEnv({ TEAMS_PORT: '3978' }), /MicrosoftAppId is not set.*TEAMS_LOCAL=1/);
    assert.equal(teamsOptionsFromEnv({ TEAMS_LOCAL: '1' })?.local, true);
  });
  it('an app id needs LBCHECK_PUBLIC_URL and a tenant allow-list', () => {
    const { LBCHECK_PUBLIC_URL: _url, ...noUrl } = auth;
    assert.throws(() => teamsOptionsFromEnv(noUrl), /LBCHECK_PUBLIC_URL is required with MicrosoftAppId/);
    const { LBCHECK_TEAMS_TENANTS: _t, ...noTenants } = auth;
    assert.throws(() => teamsOptionsFromEnv(noTenants), /LBCHECK_TEAMS_TENANTS must list/);
    assert.throws(() => teamsOptionsFromEnv({ ...auth, TEAMS_LOCAL: '1' }), /cannot be combined/);
  });
  it('defaults: the tenant of a SingleTenant app, and Teams’ Connector host', () => {
    const { LBCHECK_TEAMS_TENANTS: _t, ...rest } = auth;
    const single = teamsOptionsFromEnv({ ...rest, MicrosoftAppType: 'SingleTenant', MicrosoftAppTenantId: 'tenant-x' });
    assert.deepEqual(single?.allowedTenants, ['tenant-x']);
    assert.deepEqual(teamsOptionsFromEnv(auth)?.allowedTenants, ['tenant-a', 'tenant-b']);
    assert.deepEqual(teamsOptionsFromEnv(auth)?.serviceUrlHosts, ['smba.trafficmanager.net']);
    assert.equal(teamsOptionsFromEnv(auth)?.local, undefined);
  });
});
