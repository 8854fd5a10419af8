// A local stand-in for the Bot Framework token service: an OpenID metadata
// document and its signing key (endorsed for msteams), and tokens signed as the
// Bot Framework Connector signs its requests to a bot (RS256, issuer
// https://api.botframework.com, audience the app id, a serviceurl claim).
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The real signing keys are endorsed for many channels, so a valid token alone does not prove msteams. */
const ENDORSED = ['msteams', 'webchat', 'directline', 'skype', 'emulator'];

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export class FakeBotIssuer {
  private server: Server | undefined;
  private readonly key: KeyObject;
  private readonly jwk: Record<string, unknown>;
  readonly kid = 'lab-key-1';
  port = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.key = privateKey;
    this.jwk = {
      ...publicKey.export({ format: 'jwk' }),
      kid: this.kid,
      kty: 'RSA',
      use: 'sig',
      endorsements: ENDORSED,
    };
  }

  get metadataUrl(): string {
    return `http://127.0.0.1:${this.port}/v1/.well-known/openidconfiguration`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (req.url === '/v1/.well-known/openidconfiguration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            issuer: 'https://api.botframework.com',
            jwks_uri: `http://127.0.0.1:${this.port}/v1/.well-known/keys`,
            id_token_signing_alg_values_supported: ['RS256'],
          }),
        );
        return;
      }
      if (req.url === '/v1/.well-known/keys') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [this.jwk] }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
    return this;
  }

  /** A Connector token for `appId`, valid for an hour, naming the serviceUrl the activity carries. */
  token(appId: string, serviceUrl: string, claims: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: this.kid }));
    const payload = b64url(
      JSON.stringify({
        iss: 'https://api.botframework.com',
        aud: appId,
        serviceurl: serviceUrl,
        nbf: now - 60,
        iat: now - 60,
        exp: now + 3600,
        ...claims,
      }),
    );
    const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(this.key);
    return `${header}.${payload}.${b64url(signature)}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
