// A check lost in flight (no worker ever takes it, or its worker died with no
// other in its zone) is reported in its channel by the bot side's own periodic
// sweep, when nobody asks for status or checks its target again: the in-process
// twins end to end (state sweep → 'error' report → report poster → post).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { createLogger } from '../../src/log.js';
import type { ChatPoster, NoticeKind, PostContext } from '../../src/pipeline/poster.js';
import { DEFAULT_STATE_LIMITS } from '../../src/pipeline/state.js';
import { embeddedBackend } from '../../src/pipeline/backend.js';
import { request } from './contract-fixtures.js';
import { until } from './platform-base.js';

class NoticeRecorder implements ChatPoster {
  readonly platform = 'console';
  readonly notices: { checkId: string; kind: NoticeKind; text: string }[] = [];
  postStep(): Promise<void> {
    return Promise.resolve();
  }
  postFinal(): Promise<void> {
    return Promise.resolve();
  }
  postNotice(ctx: PostContext, kind: NoticeKind, text: string): Promise<void> {
    this.notices.push({ checkId: ctx.request.checkId, kind, text });
    return Promise.resolve();
  }
}

describe('the bot side sweeps in-flight checks', () => {
  it('a check with no progress for the stale time is reported lost in its channel, unasked', async () => {
    const backend = embeddedBackend({ ...DEFAULT_STATE_LIMITS, staleInFlightMs: 300 });
    const { state } = backend;
    const poster = new NoticeRecorder();
    const posting = startReportPoster(backend, [poster], createLogger('silent'), undefined, undefined, 100);
    try {
      const lost = request('web-vip');
      await state.createCheck(lost); // queued, and no worker runs
      await until(() => poster.notices.length > 0, 'the lost check to be reported', 10_000);
      assert.deepEqual(poster.notices, [
        {
          checkId: lost.checkId,
          kind: 'error',
          text: `Check ${lost.checkId} could not run: lost: no progress for an hour; run it again`,
        },
      ]);
      assert.equal((await state.getCheck(lost.checkId))?.status, 'failed');
    } finally {
      await posting.close();
      await backend.close();
    }
  });
});
