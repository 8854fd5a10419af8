// The signed evidence downloads (evidence-links.ts): GET /evidence/<sha256>/<name>?exp=…&sig=…
import type { ServerResponse } from 'node:http';
import { evidenceContentType } from './card-image.js';
import type { EvidenceLinkSigner } from './evidence-links.js';

export const EVIDENCE_PATH = /^\/evidence\/([0-9a-f]{64})\/([^/]+)$/;

/** Serves the bytes a valid, unexpired link names; `match` is EVIDENCE_PATH's. */
export async function serveEvidence(
  res: ServerResponse,
  match: RegExpExecArray,
  url: URL,
  links: EvidenceLinkSigner,
  evidence: (sha256: string) => Promise<Buffer | undefined>,
): Promise<void> {
  const [, sha = '', rawName = ''] = match;
  const name = decodeURIComponent(rawName);
  const verdict = links.verify(sha, name, url.searchParams.get('exp') ?? '', url.searchParams.get('sig') ?? '');
  if (verdict !== 'ok') {
    res
      .writeHead(403, { 'content-type': 'text/plain' })
      .end(
        verdict === 'expired'
          ? 'this evidence link has expired; ask the bot for the check again or use lbcheck audit export'
          : 'this evidence link is not valid',
      );
    return;
  }
  const data = await evidence(sha);
  if (!data) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('this evidence is no longer stored (retention)');
    return;
  }
  res.writeHead(200, {
    'content-type': evidenceContentType(name),
    'x-content-type-options': 'nosniff',
    'content-disposition': `attachment; filename="${name.replace(/"/g, '')}"`,
    'x-sha256': sha,
  });
  res.end(data);
}
