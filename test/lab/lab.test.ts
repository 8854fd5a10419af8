// The lab vouches for itself: every VIP works through its LB kind when healthy,
// and every fault switch produces the packet-level effect it claims.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { reapStaleRuns, startLab, VIP_KINDS, waitHealthy, type Lab } from './lab.js';
import { captureIn, connectFrom, httpGet, tcpConnect } from './lab-probes.js';
import { runOk } from './run-command.js';

let lab: Lab;

before(async () => {
  lab = await startLab();
});
after(() => lab.teardown());
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
});

const vipFilter = (kind: keyof Lab['vips']): string =>
  `host ${lab.vips[kind].address} and tcp port ${lab.vips[kind].port}`;

describe('healthy lab', () => {
  for (const kind of VIP_KINDS) {
    it(`${kind} VIP serves GET / from a real server`, async () => {
      const v = lab.vips[kind];
      const res = await httpGet(v.address, v.port);
      assert.equal(res.status, 200);
      assert.match(res.body, /^served by s\d \(198\.1[89]\.\d+\.\d+:8080\) for /);
      // Every LB kind reaches the servers from its server-side address (proxies by nature, DNAT by SNAT).
      assert.ok(res.body.split('\n')[0]?.endsWith(`for ${lab.addr.lbServerSide}`), res.body.split('\n')[0]);
    });
  }

  it('servers are reachable directly from the client, each naming itself', async () => {
    for (const s of lab.servers) {
      const res = await httpGet(s.address, s.port);
      assert.equal(res.headers['x-lab-server'], s.name);
    }
  });

  it('an idle VIP address with no listener is refused by the LB itself', async () => {
    const cap = await captureIn(lab, 'lb', `host ${lab.addr.vips.idle}`);
    assert.equal((await tcpConnect(lab.addr.vips.idle, 80)).outcome, 'refused');
    const lines = await cap.stop();
    assert.ok(
      lines.some((l) => l.includes(`> ${lab.addr.vips.idle}.80: Flags [S]`)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.includes(`${lab.addr.vips.idle}.80 >`) && l.includes('[R.]')),
      lines.join('\n'),
    );
  });

  it("the LB's sshd accepts the run's client key and presents the pinned host key", async () => {
    const ssh = lab.sshInfo;
    let seen = '';
    const conn = new Client();
    const output = await new Promise<string>((resolve, reject) => {
      conn
        .on('ready', () => {
          conn.exec('id -u && tcpdump --version', (err, stream) => {
            if (err) return reject(err);
            let out = '';
            stream.on('data', (d: Buffer) => (out += d.toString()));
            stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
            stream.on('close', () => resolve(out));
          });
        })
        .on('error', reject)
        .connect({
          host: ssh.host,
          port: ssh.port,
          username: ssh.user,
          privateKey: readFileSync(ssh.identityFile),
          hostVerifier: (key: Buffer) => {
            seen = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
            return true;
          },
        });
    });
    conn.end();
    assert.equal(seen, ssh.hostKeyFingerprint);
    assert.match(output, /^0\n/);
    assert.match(output, /tcpdump version/);
  });
});

describe('faults before the LB', () => {
  it('drop: the client times out and the LB never sees the SYN', async () => {
    await lab.faults.dropBeforeLb('haproxy-http');
    const cap = await captureIn(lab, 'lb', vipFilter('haproxy-http'));
    const r = await tcpConnect(lab.vips['haproxy-http'].address, 80, 1000);
    assert.equal(r.outcome, 'timeout');
    assert.deepEqual(await cap.stop(), []);
  });

  it("this host's own OUTPUT chain: drop times the client out, reject refuses it; other VIPs unaffected", async () => {
    const v = lab.vips.nginx;
    const undoDrop = await lab.faults.blockHere('nginx', 'drop');
    assert.equal((await tcpConnect(v.address, v.port, 500)).outcome, 'timeout');
    assert.equal((await tcpConnect(lab.vips.dnat.address, 80, 1000)).outcome, 'connected');
    await undoDrop();
    const undoReject = await lab.faults.blockHere('nginx', 'reset');
    assert.equal((await tcpConnect(v.address, v.port, 1000)).outcome, 'refused');
    await undoReject();
    assert.equal((await tcpConnect(v.address, v.port, 1000)).outcome, 'connected');
    assert.doesNotMatch(await runOk(['iptables', '-w', '-S', 'OUTPUT']), new RegExp(lab.rootLink));
  });

  it('reject (ICMP): the client is refused by an ICMP unreachable from the router; the LB sees nothing', async () => {
    await lab.faults.rejectBeforeLb('nginx', 'icmp-port-unreachable');
    const lbCap = await captureIn(lab, 'lb', vipFilter('nginx'));
    const routerCap = await captureIn(lab, 'router', `icmp or (${vipFilter('nginx')})`);
    assert.equal((await tcpConnect(lab.vips.nginx.address, 80)).outcome, 'refused');
    assert.deepEqual(await lbCap.stop(), []);
    const lines = await routerCap.stop();
    assert.ok(
      lines.some(
        (l) => l.includes(`${lab.addr.routerClientSide} > ${lab.addr.client}: ICMP`) && l.includes('unreachable'),
      ),
      lines.join('\n'),
    );
  });

  it('reject (TCP reset): the client is refused by a reset; the LB sees nothing', async () => {
    await lab.faults.rejectBeforeLb('dnat', 'tcp-reset');
    const lbCap = await captureIn(lab, 'lb', vipFilter('dnat'));
    assert.equal((await tcpConnect(lab.vips.dnat.address, 80)).outcome, 'refused');
    assert.deepEqual(await lbCap.stop(), []);
  });

  it("impostor (forged reset): a RST in the VIP's name reaches the client, never seen on any LB interface", async () => {
    await lab.faults.impostor('haproxy-tcp', 'reset');
    const lbCap = await captureIn(lab, 'lb', vipFilter('haproxy-tcp'));
    const routerCap = await captureIn(lab, 'router', vipFilter('haproxy-tcp'));
    assert.equal((await tcpConnect(lab.vips['haproxy-tcp'].address, 80)).outcome, 'refused');
    assert.deepEqual(await lbCap.stop(), []);
    const lines = await routerCap.stop();
    assert.ok(
      lines.some(
        (l) => l.includes(`${lab.vips['haproxy-tcp'].address}.80 > ${lab.addr.client}.`) && l.includes('[R.]'),
      ),
      lines.join('\n'),
    );
  });

  it('impostor (hijack): the client connects and gets an answer, but not from the LB', async () => {
    await lab.faults.impostor('haproxy-http', 'hijack');
    const lbCap = await captureIn(lab, 'lb', vipFilter('haproxy-http'));
    const res = await httpGet(lab.vips['haproxy-http'].address, 80);
    assert.equal(res.headers['x-lab-server'], 'impostor');
    assert.deepEqual(await lbCap.stop(), []);
  });
});

describe('faults on the LB and behind it', () => {
  it('VIP not listening (HAProxy stopped): the LB itself answers the SYN with a reset', async () => {
    await lab.faults.vipNotListening('haproxy-http');
    const cap = await captureIn(lab, 'lb', vipFilter('haproxy-http'));
    assert.equal((await tcpConnect(lab.vips['haproxy-http'].address, 80)).outcome, 'refused');
    const lines = await cap.stop();
    assert.ok(
      lines.some((l) => l.includes('Flags [S]')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.includes('Flags [R.]')),
      lines.join('\n'),
    );
  });

  it('VIP not listening (DNAT rules gone): refused by the LB', async () => {
    await lab.faults.vipNotListening('dnat');
    assert.equal((await tcpConnect(lab.vips.dnat.address, 80)).outcome, 'refused');
  });

  it('all servers down: the DNAT VIP refuses while the L7 VIPs still accept', async () => {
    await lab.faults.allServersDown();
    assert.equal((await tcpConnect(lab.vips.dnat.address, 80)).outcome, 'refused');
    assert.equal((await tcpConnect(lab.vips['haproxy-http'].address, 80)).outcome, 'connected');
    assert.equal((await tcpConnect(lab.vips['haproxy-tcp'].address, 80)).outcome, 'connected');
    assert.equal((await httpGet(lab.vips['haproxy-http'].address, 80)).status, 503);
    assert.equal((await httpGet(lab.vips.nginx.address, 80)).status, 502);
  });

  it('one server down: refused directly, the others still serve', async () => {
    await lab.faults.serverDown('s1');
    const [s1, s2] = lab.servers;
    assert.ok(s1 && s2);
    assert.equal((await tcpConnect(s1.address, s1.port)).outcome, 'refused');
    assert.equal((await tcpConnect(s2.address, s2.port)).outcome, 'connected');
  });

  it('a server dropping only the LB: times out from the LB, connects directly', async () => {
    await lab.faults.serverBlocksLb('s2', 'drop');
    const s2 = lab.servers[1];
    assert.ok(s2);
    assert.equal(await connectFrom(lab, 'lb', s2.address, s2.port, 1), 'timeout');
    assert.equal((await tcpConnect(s2.address, s2.port)).outcome, 'connected');
  });

  it('a server rejecting only the LB: refused from the LB, connects directly', async () => {
    await lab.faults.serverBlocksLb('s3', 'reject');
    const s3 = lab.servers[2];
    assert.ok(s3);
    assert.equal(await connectFrom(lab, 'lb', s3.address, s3.port), 'refused');
    assert.equal((await tcpConnect(s3.address, s3.port)).outcome, 'connected');
  });

  it('missing SNAT: servers answer the client around the LB, so the client never connects', async () => {
    await lab.faults.missingSnat();
    const routerCap = await captureIn(
      lab,
      'router',
      `tcp and host ${lab.addr.client} and src net ${lab.addr.serverSubnet}`,
    );
    assert.equal((await tcpConnect(lab.vips.dnat.address, 80, 1000)).outcome, 'timeout');
    const lines = await routerCap.stop();
    // The SYN-ACK comes from a real server's own address, not the VIP: proof of the asymmetric path.
    assert.ok(
      lines.some((l) => /\.8080 > .*Flags \[S\.\]/.test(l)),
      lines.join('\n'),
    );
  });
});

describe('lab lifecycle', () => {
  it('a second lab runs beside the first on its own addresses and leaves nothing behind', async () => {
    const other = await startLab({ serverCount: 2 });
    assert.notEqual(other.addr.block, lab.addr.block);
    assert.notEqual(other.runId, lab.runId);
    // A rule in this host's own OUTPUT chain, left applied: the teardown removes it too.
    await other.faults.blockHere('nginx', 'drop');
    assert.match(await runOk(['iptables', '-w', '-S', 'OUTPUT']), new RegExp(other.rootLink));
    assert.equal((await httpGet(other.vips['haproxy-http'].address, 80)).status, 200);
    other.teardown();
    const namespaces = await runOk(['ip', 'netns', 'list']);
    assert.ok(!namespaces.includes(other.runId), namespaces);
    const links = await runOk(['ip', '-o', 'link', 'show']);
    assert.ok(!links.includes(other.rootLink), links);
    assert.doesNotMatch(await runOk(['iptables', '-w', '-S', 'OUTPUT']), new RegExp(other.rootLink));
    // the first lab still works
    assert.equal((await httpGet(lab.vips.dnat.address, 80)).status, 200);
  });
});

describe('lab survives a killed run', () => {
  it('after kill -9 of a run, its daemons die with it and the next start reaps its namespaces', async () => {
    const holder = spawn(process.execPath, [new URL('./hold-lab.js', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      holder.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      holder.once('exit', (code) => reject(new Error(`hold-lab exited with ${code}`)));
    });
    const made = JSON.parse(line) as { runId: string; pids: number[]; namespaces: string[] };
    assert.ok(made.pids.length >= 5);
    const exited = new Promise((r) => holder.once('exit', r));
    holder.kill('SIGKILL');
    await exited;
    // pdeathsig: the kernel kills the daemons when their parent dies.
    const deadline = Date.now() + 5000;
    while (made.pids.some((p) => existsSync(`/proc/${p}`)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      made.pids.filter((p) => existsSync(`/proc/${p}`)),
      [],
    );
    assert.ok(
      (await runOk(['ip', 'netns', 'list'])).includes(made.runId),
      'namespaces of the killed run are expected until reaped',
    );
    reapStaleRuns();
    assert.ok(!(await runOk(['ip', 'netns', 'list'])).includes(made.runId));
    assert.ok(!(await runOk(['ip', '-o', 'link', 'show'])).includes(`lbl${made.runId}`));
  });
});
