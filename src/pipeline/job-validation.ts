// Shapes a job must have before its fields become file paths, queue names or
// messages. Check ids name evidence directories and archives; evidence names
// become file names in them, so neither may hold a path separator or "..".
import { ZONE } from '../model/ids.js';
import type { CheckRequest, ReportJob } from '../model/jobs.js';
import { CHECK_ID } from '../model/check-id.js';
import { isSafeEvidenceName } from '../model/evidence.js';

const SHA256 = /^[0-9a-f]{64}$/;
/** A --from command's group id: it keys the group's shared post memo. */
export const GROUP_ID = /^grp-[0-9a-f]{10}$/;

/** A --from group must name its own zone among at most a handful of well-formed ones. */
function groupProblem(r: CheckRequest): string | undefined {
  const g = r.group;
  if (g === undefined) return undefined;
  if (typeof g.id !== 'string' || !GROUP_ID.test(g.id)) return `group id ${JSON.stringify(g.id)}`;
  if (!Array.isArray(g.zones) || g.zones.length > 16 || g.zones.some((z) => typeof z !== 'string' || !ZONE.test(z)))
    return 'group zones';
  if (!g.zones.includes(r.zone)) return "the group does not name the check's zone";
  return undefined;
}

const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;

/** An alert trigger's fields end up in posts and the audit: strings of bounded length, a few fingerprints. */
function triggerProblem(r: CheckRequest): string | undefined {
  const t = r.trigger;
  if (t === undefined) return undefined;
  const ok =
    text(t.source, 40) &&
    text(t.name, 200) &&
    text(t.groupKey, 1000) &&
    Array.isArray(t.fingerprints) &&
    t.fingerprints.length <= 20 &&
    t.fingerprints.every((f) => text(f, 64)) &&
    (t.url === undefined || text(t.url, 2000));
  return ok ? undefined : 'alert trigger';
}

/** Why a check job is malformed, or undefined. */
export function checkJobProblem(r: CheckRequest): string | undefined {
  if (typeof r.checkId !== 'string' || !CHECK_ID.test(r.checkId)) return `check id ${JSON.stringify(r.checkId)}`;
  if (typeof r.target !== 'string' || r.target.length === 0 || r.target.length > 300) return 'target';
  if (!Array.isArray(r.members) || r.members.some((m) => typeof m !== 'string')) return 'members';
  if (typeof r.requester?.platform !== 'string' || typeof r.requester.id !== 'string') return 'requester';
  if (typeof r.replyTo?.platform !== 'string' || typeof r.replyTo.channel !== 'string') return 'replyTo';
  return groupProblem(r) ?? triggerProblem(r);
}

/** Why a report job is malformed, or undefined. */
export function reportJobProblem(r: ReportJob): string | undefined {
  if (typeof r.checkId !== 'string' || !CHECK_ID.test(r.checkId)) return `check id ${JSON.stringify(r.checkId)}`;
  if (r.request?.checkId !== r.checkId) return 'the request names another check';
  // Both become Redis keys on the bot side (the report compared against, the watch moved on).
  if (r.request.rerunOf !== undefined && !CHECK_ID.test(String(r.request.rerunOf))) return 'rerunOf';
  if (r.request.watch !== undefined && !/^wch-[0-9a-f]{10}$/.test(String(r.request.watch.id))) return 'watch id';
  const group = groupProblem(r.request) ?? triggerProblem(r.request);
  if (group) return group;
  if (r.kind === 'step') {
    for (const e of r.evidence ?? []) {
      if (!isSafeEvidenceName(e.name)) return `evidence name ${JSON.stringify(e.name)}`;
      if (typeof e.sha256 !== 'string' || !SHA256.test(e.sha256)) return `evidence sha256 ${JSON.stringify(e.sha256)}`;
    }
  }
  return undefined;
}
