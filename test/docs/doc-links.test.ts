// Every relative link in README.md and docs/*.md points at a file that exists
// and, with a #fragment, at a heading of that file (GitHub's anchors).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

const pages = [
  'README.md',
  ...readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchor: lower case, punctuation other than - and _ dropped, spaces to -. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(page: string): Set<string> {
  const text = readFileSync(join(repo, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));
}

/** [text](target) outside code blocks and code spans; absolute URLs left out. */
function relativeLinks(page: string): string[] {
  const text = readFileSync(join(repo, page), 'utf8')
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

function problems(page: string): string[] {
  return relativeLinks(page).flatMap((link) => {
    const [path = '', fragment] = link.split('#');
    const file = path === '' ? page : relative(repo, join(repo, dirname(page), path));
    if (!existsSync(join(repo, file))) return [`${link}: no file ${file}`];
    if (fragment === undefined || !file.endsWith('.md')) return [];
    return anchors(file).has(fragment) ? [] : [`${link}: no heading #${fragment} in ${file}`];
  });
}

describe('documentation links', () => {
  it('finds the pages and their links (the check below has something to check)', () => {
    assert.ok(pages.length > 5, pages.join(', '));
    assert.ok(relativeLinks('README.md').length > 5);
  });

  it('computes anchors as GitHub does', () => {
    assert.equal(anchorOf('Inventory (`LBCHECK_CONFIG` or `--config`)'), 'inventory-lbcheck_config-or---config');
    assert.equal(anchorOf('Shared captures (workers)'), 'shared-captures-workers');
  });

  for (const page of pages)
    it(`every relative link in ${page} resolves`, () => {
      assert.deepEqual(problems(page), []);
    });
});
