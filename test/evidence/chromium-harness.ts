// Loads check pages in Debian's headless Chromium (from provisioning) and
// measures them: one harness page holds each check page in an iframe (same
// origin, so its script can look inside), measures elements, decoded images,
// links, headings and the computed verdict colours, and writes the result into
// the DOM that Chromium dumps. Used for pages written to disk
// (check-page-browser.test.ts) and pages served at signed links (evidence-pages.test.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  src: string;
  title: string;
  h1: number;
  steps: number;
  sections: string[];
  headings: number[];
  imgs: { ok: boolean; width: number; alt: string }[];
  links: string[];
  verdictColours: string[];
  scripts: number;
}

export const HARNESS = (frames: string[]): string => `<!DOCTYPE html><html><body><pre id="result">pending</pre>
${frames.map((f, i) => `<iframe id="f${i}" src="${f}"></iframe>`).join('\n')}
<script>
window.addEventListener('load', () => {
  const out = [];
  for (const f of document.querySelectorAll('iframe')) {
    const d = f.contentDocument;
    out.push({
      src: f.getAttribute('src'),
      title: d.title,
      h1: d.querySelectorAll('h1').length,
      steps: d.querySelectorAll('section.step').length,
      sections: [...d.querySelectorAll('section[id]')].map((s) => s.id),
      headings: [...d.querySelectorAll('h1,h2,h3,h4,h5,h6')].map((h) => Number(h.tagName[1])),
      imgs: [...d.images].map((i) => ({ ok: i.complete && i.naturalWidth > 0, width: i.naturalWidth, alt: i.alt })),
      links: [...d.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
      verdictColours: [...d.querySelectorAll('.verdict')].map((v) => getComputedStyle(v).color),
      scripts: d.querySelectorAll('script').length,
    });
  }
  document.getElementById('result').textContent = JSON.stringify(out);
});
</script></body></html>`;

/**
 * Loads the harness at url in headless Chromium: what it measured, and every console line or refused load.
 * Asynchronous, so a server in this process can answer the browser.
 */
export async function measureInChromium(url: string): Promise<{ measured: Measured[]; consoleLines: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), 'lbcheck-chromium-'));
  try {
    const r = await promisify(execFile)(
      '/usr/bin/chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--allow-file-access-from-files',
        '--enable-logging=stderr',
        '--v=0',
        '--virtual-time-budget=20000',
        '--dump-dom',
        url,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const json = /<pre id="result">([^<]*)<\/pre>/.exec(r.stdout)?.[1];
    assert.ok(json && json !== 'pending', `the harness measured nothing: ${r.stdout.slice(0, 500)}`);
    const measured = (JSON.parse as (t: string) => Measured[])(
      json
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>'),
    );
    return { measured, consoleLines: r.stderr.split('\n').filter((l) => /CONSOLE|Refused to|Uncaught/.test(l)) };
  } catch (err) {
    // execFile rejects on a non-zero exit or the timeout: say what Chromium said.
    assert.fail(`chromium: ${String((err as { stderr?: string }).stderr ?? err)}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
