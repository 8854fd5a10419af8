// Turns the inventory schema's issues into the messages users have always
// had: file:line, who the problem belongs to (VIP "web-vip"), and what to
// write instead; unknown fields get "did you mean" from the allowed names.
import type { z } from 'zod';
import { isMap, type Document, type Node } from 'yaml';
import { didYouMean } from './did-you-mean.js';
import { scalar, type Problems } from './yaml-helpers.js';

type Path = readonly PropertyKey[];

/** Just enough of zod's internal definition to walk from a path to the schema of the field there. */
interface SchemaNode {
  description?: string;
  _zod: {
    def: {
      type: string;
      innerType?: SchemaNode;
      in?: SchemaNode;
      shape?: Record<string, SchemaNode>;
      valueType?: SchemaNode;
      element?: SchemaNode;
    };
  };
}

function unwrap(s: SchemaNode): SchemaNode {
  const def = s._zod.def;
  const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  return inner ? unwrap(inner) : s;
}

/** The schema at path (described fields keep their description), or undefined. */
function schemaAt(root: z.ZodType, path: Path): SchemaNode | undefined {
  let s: SchemaNode | undefined = root;
  for (const key of path) {
    if (!s) return undefined;
    const def: SchemaNode['_zod']['def'] = unwrap(s)._zod.def;
    s = def.shape ? def.shape[String(key)] : (def.valueType ?? def.element);
  }
  return s;
}

function allowedKeys(root: z.ZodType, path: Path): string[] {
  const s = schemaAt(root, path);
  return Object.keys((s && unwrap(s)._zod.def.shape) ?? {});
}

/** The YAML node at path, or its nearest ancestor that exists (a missing field is reported on its parent). */
function nodeAt(doc: Document, path: Path): Node | null | undefined {
  for (let n = path.length; n > 0; n--) {
    const node: unknown = doc.getIn(path.slice(0, n) as unknown[], true);
    if (node !== undefined && node !== null && typeof node === 'object') return node as Node;
  }
  return doc.contents;
}

function keyNode(doc: Document, path: Path, key: string): Node | null | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
  if (!isMap(map)) return nodeAt(doc, path);
  return (map.items.find((pair) => scalar(pair.key) === key)?.key as Node | undefined) ?? nodeAt(doc, path);
}

/** Who a path belongs to, as users name it. */
export function ownerOf(path: Path): { owner: string; field: string } {
  const [top, name, ...rest] = path.map(String);
  if (top === 'loadBalancers' && name !== undefined) return { owner: `load balancer "${name}"`, field: rest.join('.') };
  if (top === 'vips' && name !== undefined) return { owner: `VIP "${name}"`, field: rest.join('.') };
  if (top === 'policy' && name === 'rules' && rest[0] !== undefined)
    return { owner: `policy rule ${Number(rest[0]) + 1}`, field: rest.slice(1).join('.') };
  if (top === 'policy') return { owner: 'policy', field: [name, ...rest].filter((x) => x !== undefined).join('.') };
  return { owner: 'the inventory', field: path.map(String).join('.') };
}

function unknownKeys(p: Problems, doc: Document, root: z.ZodType, issue: z.core.$ZodIssueUnrecognizedKeys): void {
  const allowed = allowedKeys(root, issue.path);
  const { owner, field } = ownerOf(issue.path);
  for (const key of issue.keys) {
    const where = `${owner}${field ? ` ${field}` : ''}`;
    const guess = didYouMean(key, allowed);
    const hint = guess ? `: did you mean "${guess}"?` : '';
    p.at(keyNode(doc, issue.path, key), `unknown field "${key}" in ${where}${hint} (allowed: ${allowed.join(', ')})`);
  }
}

function message(root: z.ZodType, issue: z.core.$ZodIssue): string {
  const { owner, field } = ownerOf(issue.path);
  const params = (issue as { params?: { owned?: string } }).params;
  if (issue.code === 'custom') return params?.owned ? `${owner}${params.owned}${issue.message}` : issue.message;
  if (issue.path.length === 0) return issue.message;
  const missing = issue.input === undefined || issue.input === null;
  if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    const description = schemaAt(root, issue.path)?.description;
    return `${owner} needs ${field}${description ? `: ${description}` : ''}`;
  }
  const last = String(issue.path[issue.path.length - 1]);
  if (issue.message.startsWith(`${last} `)) return `${owner} ${issue.message}`;
  if (issue.message.startsWith('must ')) return `${owner} ${field} ${issue.message}`;
  return `${owner} ${field}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

/** Every schema issue as a problem on its line. */
export function reportIssues(p: Problems, doc: Document, root: z.ZodType, issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') unknownKeys(p, doc, root, issue);
    else if ((issue as { params?: { key?: boolean } }).params?.key)
      p.at(keyNode(doc, issue.path.slice(0, -1), String(issue.path.at(-1))), issue.message);
    else p.at(nodeAt(doc, issue.path), message(root, issue));
  }
}
