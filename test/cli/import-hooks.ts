// Module resolve hook (runs on node's loader thread): appends every resolved
// module URL to the file named by LBCHECK_IMPORT_LOG, so a test can see what a
// command really loaded.
import { appendFileSync } from 'node:fs';

interface ResolveResult {
  url: string;
}
type NextResolve = (specifier: string, context: unknown) => Promise<ResolveResult>;

export async function resolve(specifier: string, context: unknown, next: NextResolve): Promise<ResolveResult> {
  const result = await next(specifier, context);
  const log = process.env.LBCHECK_IMPORT_LOG;
  if (log) appendFileSync(log, `${result.url}\n`);
  return result;
}
