// What the audit log says about a chat check's files and where it was posted:
// the evidence page's server looks a file up by check and name here (the
// sha256 its post record names), and lets one check's link open another
// check's page only when both were posted in the same conversation (platform,
// channel and thread), where whoever holds the link saw both already.
import type { AuditRecord, PostRecord } from './audit-record.js';

type Post = AuditRecord & PostRecord;

export interface CheckFile {
  name: string;
  sha256: string;
  bytes: number;
}

const posts = (records: readonly AuditRecord[], checkId: string): Post[] =>
  records.filter((r): r is Post => r.type === 'post' && r.checkId === checkId);

/** Every file the check's posts recorded, by name (a later record of the same name wins). */
export function checkFiles(records: readonly AuditRecord[], checkId: string): Map<string, CheckFile> {
  const files = new Map<string, CheckFile>();
  for (const r of posts(records, checkId))
    for (const e of r.evidence)
      if (!e.truncatedFrom) files.set(e.name, { name: e.name, sha256: e.sha256, bytes: e.bytes });
  return files;
}

/** One key per conversation (platform, channel, thread); none for a post without a thread (a whole channel). */
export const conversationOf = (r: PostRecord): string | undefined =>
  r.thread ? JSON.stringify([r.platform, r.channel, r.thread]) : undefined;

export function sameConversation(records: readonly AuditRecord[], a: string, b: string): boolean {
  if (a === b) return true;
  const of = new Set(posts(records, a).map(conversationOf));
  return posts(records, b).some((r) => conversationOf(r) !== undefined && of.has(conversationOf(r)));
}
