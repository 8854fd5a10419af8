// Ed25519 keys for anchoring the audit log (node:crypto, no dependency). The
// bot holds the private key (LBCHECK_AUDIT_SIGNING_KEY); auditors need only the
// public key. A key id (the first 16 hex digits of the public key's SHA-256)
// says which key signed what, so a rotated key is told from a forged one.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../errors.js';

export interface AuditSigner {
  keyId: string;
  sign(payload: string): string;
  /** Set when the key file is readable by others than its owner (said at startup). */
  warning?: string;
}

export interface AuditVerifier {
  keyId: string;
  verify(payload: string, signature: string): boolean;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

function readPem(file: string, what: string, setting: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read the audit ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      `fix ${setting}; generate a key pair with lbcheck audit keygen`,
    );
  }
}

function requireEd25519(key: KeyObject, file: string, setting: string): void {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ConfigError(
      `${file} is a ${key.asymmetricKeyType ?? 'symmetric'} key, not Ed25519`,
      `fix ${setting}; generate one with lbcheck audit keygen or openssl genpkey -algorithm ed25519`,
    );
}

/** The signer from a PEM private key file (LBCHECK_AUDIT_SIGNING_KEY). */
export function loadSigner(file: string, setting = 'LBCHECK_AUDIT_SIGNING_KEY'): AuditSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(readPem(file, 'signing key', setting));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${file} is not a PEM private key`, `fix ${setting}; generate one with lbcheck audit keygen`);
  }
  requireEd25519(key, file, setting);
  // Whoever reads the key can forge checkpoints; OpenSSH refuses such keys, this only warns (secrets mounted
  // by orchestrators are often 0644 inside a private mount).
  const mode = statSync(file).mode & 0o777;
  return {
    keyId: keyIdOf(createPublicKey(key)),
    sign: (payload) => sign(null, Buffer.from(payload), key).toString('base64'),
    ...(mode & 0o077 ? { warning: readableKeyWarning(file, mode) } : {}),
  };
}

function readableKeyWarning(file: string, mode: number): string {
  return `${file} is readable by others (mode ${mode.toString(8)}): chmod 600 it, or checkpoints can be forged`;
}

/** The verifier from a PEM public key file (or a private key file: its public half is used). */
export function loadVerifier(file: string, setting = '--public-key'): AuditVerifier {
  let key: KeyObject;
  try {
    key = createPublicKey(readPem(file, 'public key', setting));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${file} is not a PEM public key`, `give the .pub.pem written by lbcheck audit keygen`);
  }
  requireEd25519(key, file, setting);
  return {
    keyId: keyIdOf(key),
    verify: (payload, signature) => {
      try {
        return verify(null, Buffer.from(payload), key, Buffer.from(signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
}

/** A new key pair as PEM text (lbcheck audit keygen). */
export function generateAuditKeys(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}
