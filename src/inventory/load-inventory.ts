// Loads and validates the inventory file against its schema (inventory-schema.ts).
// Every problem is reported with the file and line it is on, all at once, so a
// config can be fixed in one pass.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { loadPolicy } from '../policy/load-policy.js';
import { NO_POLICY } from '../policy/policy-types.js';
import { alertsNameProblems } from './alerts-schema.js';
import { inventorySchema } from './inventory-schema.js';
import type { Inventory, InventoryLb, InventoryVip } from './inventory-types.js';
import { loadLbGroups, vipLb } from './lb-groups.js';
import { reportIssues } from './schema-issues.js';
import { field, Problems } from './yaml-helpers.js';

type Raw = { loadBalancers?: unknown; lbGroups?: unknown; vips?: unknown } | null | undefined;

const namesIn = (section: unknown): string[] =>
  section !== null && typeof section === 'object' && !Array.isArray(section) ? Object.keys(section) : [];

/** What the schema cannot see: a VIP's lb must name load balancers or a group of the same file (lb-groups.ts). */
function resolveLbs(p: Problems, doc: Document, raw: Raw): Map<string, ReturnType<typeof vipLb>> {
  const lbs = new Set(namesIn(raw?.loadBalancers));
  const groups = loadLbGroups(p, doc.get('lbGroups', true) as Node | undefined, lbs);
  return new Map(
    namesIn(raw?.vips).map((name) => [
      name,
      vipLb(p, doc.getIn(['vips', name, 'lb'], true) as Node, name, lbs, groups),
    ]),
  );
}

const lineOf = (problem: string): number => Number(/^[^\n]*?:(\d+): /.exec(problem)?.[1] ?? 0);

function fail(file: string, unordered: string[]): never {
  // In file order, so the list reads top to bottom alongside the file (the sort is stable within a line).
  const problems = [...unordered].sort((a, b) => lineOf(a) - lineOf(b));
  throw new ConfigError(
    `inventory ${file} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`,
  );
}

export function parseInventory(text: string, file: string): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const p = new Problems(file, lines);
  for (const e of doc.errors) p.list.push(`${file}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`);
  if (p.list.length > 0) fail(file, p.list);
  const raw = doc.toJS() as Raw;
  const parsed = inventorySchema.safeParse(raw, { reportInput: true });
  const issues = parsed.success ? [] : parsed.error.issues;
  reportIssues(p, doc, inventorySchema, issues);
  const vipLbs = resolveLbs(p, doc, raw);
  // The policy's own checks (principals, CIDRs, targets that exist) need its shape to be right first.
  const policyShapeOk = !issues.some((i) => i.path[0] === 'policy');
  const vipNames = new Set(namesIn(raw?.vips));
  const policy = policyShapeOk ? loadPolicy(p, field(doc.contents, 'policy'), vipNames) : NO_POLICY;
  alertsNameProblems(doc, vipNames, p);
  if (!parsed.success || p.list.length > 0) fail(file, p.list);
  const loadBalancers = new Map<string, InventoryLb>(
    Object.entries(parsed.data.loadBalancers ?? {}).map(([name, lb]) => [name, { name, ...lb }]),
  );
  const vips = new Map<string, InventoryVip>(
    Object.entries(parsed.data.vips ?? {}).map(([name, { lb: _lb, ...vip }]) => [
      name,
      { name, ...vip, ...vipLbs.get(name) },
    ]),
  );
  const alerts = parsed.data.alerts ?? undefined;
  return { file, loadBalancers, vips, policy, ...(alerts ? { alerts } : {}) };
}

export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read inventory ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'set LBCHECK_CONFIG or --config to the inventory YAML file',
    );
  }
  return parseInventory(text, file);
}
