// Joins Prometheus text expositions into one: each BullMQ queue exports its own
// "# HELP bullmq_job_count" block, and a scrape must carry each metric family
// once, its samples together.
interface Family {
  meta: string[];
  samples: string[];
}

function familyOf(line: string): string {
  const comment = /^# (?:HELP|TYPE) (\S+)/.exec(line);
  if (comment?.[1]) return comment[1];
  return /^[^\s{]+/.exec(line)?.[0] ?? '';
}

export function mergeExpositions(texts: readonly string[]): string {
  const families = new Map<string, Family>();
  for (const text of texts)
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const name = familyOf(line);
      const family = families.get(name) ?? { meta: [], samples: [] };
      families.set(name, family);
      if (line.startsWith('#')) {
        const kind = line.split(' ', 2)[1];
        if (!family.meta.some((m) => m.split(' ', 2)[1] === kind)) family.meta.push(line);
      } else family.samples.push(line.replace(/, (?=[a-zA-Z_][a-zA-Z0-9_]*=")/g, ','));
    }
  return [...families.values()].flatMap((f) => [...f.meta, ...f.samples]).join('\n') + (families.size ? '\n' : '');
}
