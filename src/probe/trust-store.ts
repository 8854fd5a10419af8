// The CAs a TLS VIP's certificate is verified against: the bundle the inventory
// (caFile) or --ca-file names, else the system's CA store, which is what the
// clients on this estate are taken to trust. Node's own bundled roots are the
// last resort, on a machine with no system bundle where one is looked for.
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { ConfigError } from '../errors.js';

/** Where Debian/Ubuntu, RHEL/Fedora and Alpine/BSD keep the system's CA bundle. */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

export interface TrustStore {
  context: SecureContext;
  /** Which CAs, as the report and the text name them. */
  store: string;
}

// One context per bundle: building one parses every certificate in it.
const contexts = new Map<string, TrustStore>();

function systemStore(): TrustStore {
  for (const file of SYSTEM_BUNDLES) {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    return { context: createSecureContext({ ca: pem }), store: `the system's CA store (${file})` };
  }
  return { context: createSecureContext({ ca: [...rootCertificates] }), store: "Node.js's bundled CA roots" };
}

function bundleStore(file: string): TrustStore {
  try {
    return { context: createSecureContext({ ca: readFileSync(file, 'utf8') }), store: `the CA bundle ${file}` };
  } catch (err) {
    throw new ConfigError(
      `cannot use the CA bundle ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      'caFile in the inventory (or --ca-file) must name a readable PEM file of CA certificates',
    );
  }
}

/** The trust store for a VIP: its CA bundle when one is named, else the system's. */
export function trustStore(caFile: string | undefined): TrustStore {
  const key = caFile ?? '';
  const known = contexts.get(key);
  if (known) return known;
  const made = caFile ? bundleStore(caFile) : systemStore();
  contexts.set(key, made);
  return made;
}
