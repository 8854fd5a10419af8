// Small helpers for validating YAML with line numbers in every message.
import { isMap, isScalar, type LineCounter, type Node } from 'yaml';

export class Problems {
  readonly list: string[] = [];
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
  ) {}
  at(node: Node | null | undefined, message: string): void {
    const offset = node?.range?.[0];
    const where = offset === undefined ? this.file : `${this.file}:${this.lines.linePos(offset).line}`;
    this.list.push(`${where}: ${message}`);
  }
  /** Runs a parser, turning its error into a problem at node. */
  try<T>(node: Node | null | undefined, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.at(node, err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }
}

export function entries(map: unknown): [string, Node | null, Node | null][] {
  if (!isMap(map)) return [];
  return map.items.map((pair) => {
    const key = pair.key as Node | null;
    return [scalar(key) ?? '', key, pair.value as Node | null];
  });
}

export function scalar(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export function field(map: Node | null, name: string): Node | null | undefined {
  return isMap(map) ? map.get(name, true) : undefined;
}
