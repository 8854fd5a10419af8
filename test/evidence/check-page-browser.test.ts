// The check page of every recorded fixture, written as `--evidence-dir` writes
// it and loaded in real headless Chromium (Debian's, from provisioning): the
// elements present, every image decoded, no console message (a CSP refusal, a
// script error), every link resolving to a file beside it; then an
// accessibility pass: alt text, heading order, and the contrast of the verdict
// colours as the browser computed them. One browser run loads every page (one
// iframe each) and writes what it measured into the DOM it dumps.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHECK_PAGE_NAME } from '../../src/evidence/check-page.js';
import { writeEvidence } from '../../src/evidence/write-evidence.js';
import type { Report } from '../../src/model/report.js';
import { FIXTURE_ROOT } from '../fixtures/fixture-files.js';
import { HARNESS, measureInChromium, type Measured } from './chromium-harness.js';
import { fixtureEvidence } from './page-fixtures.js';

let dir: string;
const pages = new Map<string, { report: Report; folder: string }>();
let measured: Measured[] = [];
let consoleLines: string[] = [];

const evidenceOf = fixtureEvidence;

/** WCAG relative luminance of "rgb(r, g, b)". */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).slice(0, 3).map((c) => {
    const s = Number(c) / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-page-'));
  for (const name of readdirSync(FIXTURE_ROOT).sort()) {
    const { report, evidence } = evidenceOf(name);
    const { folder } = writeEvidence(dir, report, evidence);
    pages.set(name, { report, folder });
  }
  // Written again once all exist, so every page lists the re-runs of its target saved beside it.
  for (const name of pages.keys()) {
    const { report, evidence } = evidenceOf(name);
    writeEvidence(dir, report, evidence);
  }
  const frames = [...pages.values()].map((p) => `${p.report.id}/${CHECK_PAGE_NAME}`);
  writeFileSync(join(dir, 'harness.html'), HARNESS(frames));
  ({ measured, consoleLines } = await measureInChromium(`file://${join(dir, 'harness.html')}`));
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('the check page in headless Chromium', () => {
  it('loads the page of every recorded fixture: steps, diagnosis, files; every ladder image decoded', () => {
    assert.equal(measured.length, pages.size);
    assert.ok(pages.size >= 10, `only ${pages.size} fixtures`);
    for (const m of measured) {
      const report = [...pages.values()].find((p) => m.src.startsWith(`${p.report.id}/`))?.report;
      assert.ok(report, m.src);
      assert.match(m.title, new RegExp(`^lbcheck ${report.id}: `));
      assert.equal(m.h1, 1, m.src);
      assert.equal(m.steps, report.steps.length, m.src);
      for (const s of ['diagnosis', 'steps', 'files', 'reruns']) assert.ok(m.sections.includes(s), `${m.src}: ${s}`);
      const ladders = report.steps.filter((s) => s.evidence.some((e) => e.name.endsWith('-ladder.svg'))).length;
      assert.equal(m.imgs.length, ladders, m.src);
      for (const img of m.imgs) assert.ok(img.ok && img.width > 100, `${m.src}: an image did not decode`);
      assert.equal(m.scripts, 0, 'the page needs no script');
    }
    assert.deepEqual(consoleLines, [], 'no console message, no refused load');
  });

  it('every link resolves: files beside the page, anchors on it, re-run pages', () => {
    let reruns = 0;
    for (const m of measured) {
      const page = resolve(dir, m.src);
      const html = readFileSync(page, 'utf8');
      for (const href of m.links) {
        if (href.startsWith('#')) assert.ok(html.includes(`id="${href.slice(1)}"`), `${m.src}: ${href}`);
        else {
          assert.doesNotMatch(href, /^[a-z]+:/i, `${m.src}: only relative links (${href})`);
          assert.ok(existsSync(resolve(dirname(page), decodeURIComponent(href))), `${m.src}: ${href} is missing`);
          if (href.startsWith('../')) reruns++;
        }
      }
    }
    assert.ok(reruns >= 2, 'checks of one target link each other');
  });

  it('a re-run of the same target is listed with what changed', () => {
    const healthy = pages.get('healthy-haproxy-http');
    const blocked = pages.get('server-blocks-lb');
    assert.ok(healthy && blocked);
    const html = readFileSync(join(blocked.folder, CHECK_PAGE_NAME), 'utf8');
    assert.ok(html.includes(`href="../${healthy.report.id}/${CHECK_PAGE_NAME}"`));
    assert.match(html, /culprit (none → \S+|\S+ → none)/);
  });

  it('accessibility: alt text on every image, headings in order, verdict colours at 4.5:1 on white', () => {
    for (const m of measured) {
      for (const img of m.imgs) assert.ok(img.alt.trim().length > 10, `${m.src}: image without alt text`);
      assert.equal(m.headings[0], 1, m.src);
      m.headings.forEach((h, i) => i > 0 && assert.ok(h <= (m.headings[i - 1] ?? 1) + 1, `${m.src}: h${h} skips`));
      assert.ok(m.verdictColours.length > 0);
      for (const c of m.verdictColours) {
        const ratio = (1 + 0.05) / (luminance(c) + 0.05);
        assert.ok(ratio >= 4.5, `${m.src}: verdict colour ${c} has contrast ${ratio.toFixed(2)}:1`);
      }
    }
  });

  it('server-supplied text is escaped, never markup', () => {
    const { report, evidence } = evidenceOf('healthy-haproxy-http');
    const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const step = report.steps[0];
    assert.ok(step);
    const bad = { ...report, id: 'chk-hostile00', steps: [{ ...step, summary: hostile }, ...report.steps.slice(1)] };
    const { folder } = writeEvidence(dir, bad, evidence);
    const html = readFileSync(join(folder, CHECK_PAGE_NAME), 'utf8');
    assert.ok(!html.includes('<script>') && !html.includes('<img src=x'));
    assert.ok(html.includes('&lt;script&gt;alert(2)&lt;/script&gt;'));
  });
});
