// The console platform (like Hubot's shell): type "/lbcheck <command>" at a
// prompt, see the ack at once and each step's verdict as it arrives, with the
// evidence saved to a local folder and its path printed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Report, Step } from '../../src/model/report.js';
import { renderStep } from '../../src/messages/render-text.js';
import { finalView } from '../../src/messages/views.js';
import type { Incoming, IntakeReply } from '../../src/pipeline/intake.js';
import type { ChatPoster, EvidenceFile, NoticeKind, PostContext, PostedRef } from '../../src/pipeline/poster.js';
import { CHECK_ID } from '../../src/model/check-id.js';
import { isSafeEvidenceName } from '../../src/model/evidence.js';

/** Each line names its check, and for a --from check its zone: "[chk-0123456789 dc1]". */
function label(ctx: PostContext): string {
  return `[${ctx.request.checkId}${ctx.vantage ? ` ${ctx.vantage.zone}` : ''}]`;
}

export interface ConsoleOptions {
  input: Readable;
  output: Writable;
  evidenceDir: string;
  user: string;
  intake: (incoming: Incoming) => Promise<IntakeReply>;
  prompt?: string;
}

export class ConsoleAdapter implements ChatPoster {
  readonly platform = 'console';

  constructor(private readonly opts: ConsoleOptions) {}

  private print(text: string): void {
    this.opts.output.write(`${text}\n`);
  }

  /** Reads commands until the input ends or the user types quit. */
  async run(): Promise<void> {
    const rl = createInterface({ input: this.opts.input, terminal: false });
    const prompt = this.opts.prompt ?? '';
    if (prompt) this.opts.output.write(prompt);
    for await (const line of rl) {
      const text = line.trim();
      if (text === 'quit' || text === 'exit') break;
      if (text !== '') await this.handleLine(text);
      if (prompt) this.opts.output.write(prompt);
    }
    rl.close();
  }

  async handleLine(line: string): Promise<IntakeReply> {
    const text = line.replace(/^\/?lbcheck\b\s*/, '');
    const reply = await this.opts.intake({
      requester: { platform: 'console', id: this.opts.user, name: this.opts.user },
      replyTo: { platform: 'console', channel: 'console' },
      text,
    });
    this.print(reply.kind === 'refused' ? `✘ ${reply.text}` : reply.text);
    return reply;
  }

  /** The check's evidence directory; a check id that is not one would name a path elsewhere. */
  private checkDir(checkId: string): string {
    if (!CHECK_ID.test(checkId)) throw new Error(`refusing to write evidence for check id ${JSON.stringify(checkId)}`);
    return resolve(this.opts.evidenceDir, checkId);
  }

  postStep(ctx: PostContext, step: Step, evidence: EvidenceFile[]): Promise<PostedRef> {
    const dir = this.checkDir(ctx.request.checkId);
    mkdirSync(dir, { recursive: true });
    const paths = new Map<string, string>();
    const missing: string[] = [];
    for (const e of evidence) {
      if (!e.data || !isSafeEvidenceName(e.name)) {
        missing.push(JSON.stringify(e.name));
        continue;
      }
      const path = join(dir, e.name);
      writeFileSync(path, e.data);
      paths.set(e.sha256, e.truncatedFrom ? `${path} (truncated from ${e.truncatedFrom} B)` : path);
    }
    const body = renderStep(step, paths)
      .split('\n')
      .map((l) => `${label(ctx)} ${l}`)
      .join('\n');
    this.print(body);
    if (missing.length > 0)
      this.print(`${label(ctx)}   evidence not saved (expired, or an unsafe file name): ${missing.join(', ')}`);
    return Promise.resolve({ fileIds: [...paths.values()] });
  }

  postFinal(ctx: PostContext, report: Report): Promise<void> {
    const d = report.diagnosis;
    const dir = this.checkDir(ctx.request.checkId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    this.print(
      [
        `${label(ctx)} ${finalView(report, ctx.diff).headline} → ${d.team}`,
        `${label(ctx)}   ${d.summary}`,
        ...(d.stoppedAfter
          ? [`${label(ctx)}   (stopped after step ${d.stoppedAfter}; add --all to run every step)`]
          : []),
        `${label(ctx)}   report: ${join(dir, 'report.json')}`,
      ].join('\n'),
    );
    return Promise.resolve();
  }

  postNotice(ctx: PostContext, kind: NoticeKind, text: string): Promise<void> {
    const mark = { error: '✘', lost: '⚠', cancelled: '–', stopped: '–', watch: '–', alert: '!', comparison: '⇄' }[kind];
    // The comparison belongs to the --from group, not to the one check whose end completed it.
    const who = kind === 'comparison' && ctx.vantage ? `[${ctx.vantage.group.id}]` : label(ctx);
    const [head, ...more] = text.split('\n');
    this.print([`${who} ${mark} ${head ?? ''}`, ...more.map((l) => `${who}   ${l}`)].join('\n'));
    return Promise.resolve();
  }
}
