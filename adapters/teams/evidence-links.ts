// Teams bots cannot put files into channels without Graph, so the bot serves
// evidence itself: each link names the exact sha256-addressed bytes and is
// signed with an expiry (src/evidence/evidence-links.ts, shared with the check pages).
export { evidenceLinks, type EvidenceLinkSigner } from '../../src/evidence/evidence-links.js';
