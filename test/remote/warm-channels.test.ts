// The bookkeeping of warm channels, with a stand-in for the session's exec
// (the lab tests in ssh-lab.test.ts run them against a real sshd): the line
// goes to the oldest waiting channel, a server refusal pauses warming until a
// channel closes, and waiting channels are retired after their idle time.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { LOADER, WarmChannels, type OpenedExec } from '../../src/remote/warm-channels.js';

class FakeChannel extends EventEmitter {
  readonly written: string[] = [];
  closed = false;
  readonly stderr = { resume: (): void => undefined };
  write(data: string): boolean {
    this.written.push(data);
    return true;
  }
  resume(): this {
    return this;
  }
  close(): void {
    this.closed = true;
    this.emit('closed-by-us');
  }
}

/** An exec that opens FakeChannels (or refuses while refuse is set), recording what it ran. */
function fakeExec(): { exec: (command: string) => Promise<OpenedExec>; opened: FakeChannel[]; refuse: boolean } {
  const state = {
    opened: [] as FakeChannel[],
    refuse: false,
    exec: (command: string): Promise<OpenedExec> => {
      assert.equal(command, LOADER);
      if (state.refuse) return Promise.reject(new Error('open failed'));
      const channel = new FakeChannel();
      state.opened.push(channel);
      const exit = new Promise<{ code: number | null; signal: string | null }>((done) =>
        channel.once('closed-by-us', () => done({ code: 0, signal: null })),
      );
      return Promise.resolve({ channel: channel as unknown as ClientChannel, exit });
    },
  };
  return state;
}

describe('warm channels: bookkeeping', () => {
  it('keeps `keep` waiting, hands a line to the oldest, and replaces it', async () => {
    const fake = fakeExec();
    const warm = new WarmChannels(fake.exec, 2);
    warm.topUp();
    await warm.opened();
    assert.equal(fake.opened.length, 2);
    const got = await warm.take('ip -o link show');
    assert.equal(got?.channel, fake.opened[0] as unknown as ClientChannel);
    assert.deepEqual(fake.opened[0]?.written, ['ip -o link show\n']);
    assert.equal(warm.size, 2);
    assert.equal(fake.opened.length, 3);
    warm.close();
  });

  it('never hands over a line with a newline (the loader reads one line)', async () => {
    const fake = fakeExec();
    const warm = new WarmChannels(fake.exec, 1);
    assert.equal(await warm.take("printf %s 'a\nb'"), undefined);
    assert.deepEqual(
      fake.opened.flatMap((c) => c.written),
      [],
    );
    warm.close();
  });

  it('a refused open pauses warming until a channel closes', async () => {
    const fake = fakeExec();
    const warm = new WarmChannels(fake.exec, 2);
    fake.refuse = true;
    assert.equal(await warm.take('true'), undefined);
    fake.refuse = false;
    warm.topUp();
    assert.equal(warm.size, 0, 'warming goes on after a refusal');
    warm.resume();
    warm.topUp();
    await warm.opened();
    assert.equal(warm.size, 2);
    warm.close();
  });

  it('retires a channel that waited its idle time, and opens none until asked again', async () => {
    const fake = fakeExec();
    const warm = new WarmChannels(fake.exec, 1, 10);
    warm.topUp();
    await warm.opened();
    const [first] = fake.opened;
    // The idle timer is unref'd (it never keeps a process alive): this one keeps the test's alive meanwhile.
    const alive = setTimeout(() => undefined, 10_000);
    await new Promise<void>((resolve) => first?.once('closed-by-us', resolve));
    clearTimeout(alive);
    assert.equal(warm.size, 0);
    assert.equal(fake.opened.length, 1);
    await warm.take('true');
    assert.equal(fake.opened.length, 3, 'one for the line, one to wait again');
    warm.close();
  });
});
