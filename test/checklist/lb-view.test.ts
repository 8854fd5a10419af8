// Parsing the LB's own view of its pool, on output in the exact formats the
// lab's HAProxy 2.6 (`show stat`), iptables-save and nginx -T print.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberResult } from '../../src/model/report.js';
import { compareView } from '../../src/checklist/decide/step-servers.js';
import {
  parseHaproxyStat,
  parseHaproxyView,
  parseIptablesDnat,
  parseNginxUpstream,
  nginxListens,
  parseView,
  viewCommand,
} from '../../src/checklist/lb-view.js';

const SHOW_STAT = [
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode',
  'f,FRONTEND,,,0,0,9985,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http',
  'pool_http,s1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,1,1,,1,3,1,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,10.0.0.11:8080,,http',
  'pool_http,s2,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,1,0,,1,3,2,,0,,2,0,,0,L7OK,200,1,0,0,0,0,0,0,,,,0,0,0,,,,,-1,OK,,0,0,0,0,,,,Layer7 check passed,,2,3,3,,,,10.0.0.12:8080,,http',
  'other,s9,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,1,0,,1,3,2,,0,,2,0,,0,L4OK,,1,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,2,3,3,,,,10.9.9.9:80,,tcp',
  'pool_http,BACKEND,0,0,0,0,999,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,1,1,1,,1,3,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http',
].join('\n');

describe('the LB view parsers', () => {
  it("HAProxy show stat: the backend's servers with state, last check and address; other backends ignored", () => {
    assert.deepEqual(parseHaproxyStat(SHOW_STAT, 'pool_http'), [
      { address: '10.0.0.11:8080', name: 's1', state: 'DOWN', check: 'L4CON' },
      { address: '10.0.0.12:8080', name: 's2', state: 'UP', check: 'L7OK' },
    ]);
    assert.throws(() => parseHaproxyStat('Unknown command', 'pool_http'), /no CSV header/);
  });

  // HAProxy 2.6 on a stats socket at level user: `show stat` leaves the addr column empty, `show servers state`
  // (asked on the same connection, after `;`) still lists each server's address and port by name.
  const USER_LEVEL_STAT = SHOW_STAT.replace(',10.0.0.11:8080,', ',,')
    .replace(',10.0.0.12:8080,', ',,')
    .replace(',10.9.9.9:80,', ',,');
  const SERVERS_STATE = [
    '1',
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port',
    '3 pool_http 1 s1 10.0.0.11 0 0 1 1 5 7 2 0 6 0 0 0 - 8080 - 0 0 - - 0',
    '3 pool_http 2 s2 10.0.0.12 2 0 1 1 5 15 3 3 6 0 0 0 - 8080 - 0 0 - - 0',
    '4 other 1 s9 10.9.9.9 2 0 1 1 5 6 3 3 6 0 0 0 - 80 - 0 0 - - 0',
    '',
  ].join('\n');
  const member = (address: string, ok: boolean): MemberResult => {
    const probe = ok
      ? { outcome: 'connected' as const, httpStatus: 200, ms: 3 }
      : { outcome: 'refused' as const, ms: 1, code: 'L4CON' };
    return { address, direct: probe, fromLb: probe, source: 'configured' };
  };
  const members = [member('10.0.0.11:8080', false), member('10.0.0.12:8080', true)];

  it('HAProxy at level user: servers matched by name to `show servers state`, and the report says what that level hides', () => {
    const view = parseHaproxyView(`${USER_LEVEL_STAT}\n\n${SERVERS_STATE}`, 'pool_http');
    assert.deepEqual(view.pool, [
      { address: '10.0.0.11:8080', name: 's1', state: 'DOWN', check: 'L4CON' },
      { address: '10.0.0.12:8080', name: 's2', state: 'UP', check: 'L7OK' },
    ]);
    assert.match(view.hidden ?? '', /no server addresses \(a stats socket at level user hides them\).*matched by name/);
    const said = compareView({ source: 'haproxy', command: 'x', ...view }, members, 'http').join(' ');
    assert.match(said, /HAProxy marks 10\.0\.0\.12:8080 UP \(L7OK\); our probe from the LB gets HTTP 200 too/);
    assert.doesNotMatch(said, /pool lists/);
    // With addresses in `show stat` itself (level operator or admin) there is nothing to say.
    assert.equal(parseHaproxyView(`${SHOW_STAT}\n\n${SERVERS_STATE}`, 'pool_http').hidden, undefined);
  });

  it('HAProxy at level user without `show servers state`: servers by name only, never "the pool lists nothing"', () => {
    const view = parseHaproxyView(USER_LEVEL_STAT, 'pool_http');
    assert.deepEqual(
      view.pool.map((m) => [m.name, m.address, m.state]),
      [
        ['s1', '', 'DOWN'],
        ['s2', '', 'UP'],
      ],
    );
    const said = compareView({ source: 'haproxy', command: 'x', ...view }, members, 'http');
    assert.deepEqual(said, [
      "HAProxy's `show stat` gave no server addresses (a stats socket at level user hides them), and " +
        '`show servers state` did not list them: its servers s1 (DOWN), s2 (UP) are known by name only, so they ' +
        'are not compared with the members by address.',
    ]);
  });

  it('iptables-save: DNAT targets for the VIP and whether SNAT applies', () => {
    const save = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      '-A PREROUTING -d 10.1.0.4/32 -p tcp -m tcp --dport 80 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination 10.0.0.11:8080',
      '-A PREROUTING -d 10.1.0.4/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.12:8080',
      '-A PREROUTING -d 10.1.0.5/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.99:8080',
      '-A POSTROUTING -d 10.0.0.11/32 -p tcp -m tcp --dport 8080 -m conntrack --ctstate DNAT --ctorigdst 10.1.0.4 -j SNAT --to-source 10.0.0.1',
      'COMMIT',
    ].join('\n');
    assert.deepEqual(parseIptablesDnat(save, '10.1.0.4', 80), {
      pool: [{ address: '10.0.0.11:8080' }, { address: '10.0.0.12:8080' }],
      snat: true,
    });
    const noSnat = save
      .split('\n')
      .filter((l) => !l.includes('POSTROUTING -d'))
      .join('\n');
    assert.equal(parseIptablesDnat(noSnat, '10.1.0.4', 80).snat, false);
    assert.deepEqual(parseIptablesDnat(save, '10.1.0.4', 443).pool, []);
  });

  it('nginx -T: the upstream behind the server block listening on the VIP', () => {
    const conf = [
      '# configuration file /etc/nginx/nginx.conf:',
      'http {',
      '  upstream pool { server 10.0.0.11:8080 max_fails=1; server 10.0.0.12:8080; }',
      '  upstream other { server 10.9.9.9:80; }',
      '  server { listen 10.1.0.3:80; location / { proxy_pass http://pool; } }',
      '  server { listen 10.1.0.7:80; location / { proxy_pass http://other; } }',
      '}',
    ].join('\n');
    assert.deepEqual(parseNginxUpstream(conf, '10.1.0.3', 80), [
      { address: '10.0.0.11:8080' },
      { address: '10.0.0.12:8080' },
    ]);
    assert.throws(() => parseNginxUpstream(conf, '10.1.0.9', 80), /no nginx server block listens on 10\.1\.0\.9:80/);
  });

  it('nginx -T: IPv6 listen lines and wildcards pick the server block of an IPv6 VIP', () => {
    const conf = [
      'http {',
      '  upstream v4 { server 10.0.0.11:8080; }',
      '  upstream v6 { server [2001:DB8:19:30:0:0:0:11]:8080; server [2001:db8:19:30::12]:8080 backup; }',
      '  upstream any6 { server 10.0.0.21:8080; }',
      '  server { listen 80; location / { proxy_pass http://v4; } }',
      '  server { listen [2001:db8:19:30::10]:80 ssl; location / { proxy_pass http://v6; } }',
      '  server { listen [::]:8443 ipv6only=off; location / { proxy_pass http://any6; } }',
      '}',
    ].join('\n');
    const v6 = [{ address: '[2001:db8:19:30::11]:8080' }, { address: '[2001:db8:19:30::12]:8080' }];
    assert.deepEqual(parseNginxUpstream(conf, '2001:db8:19:30::10', 80), v6);
    // Another spelling of the same address is the same address.
    assert.deepEqual(parseNginxUpstream(conf, '2001:0db8:19:30:0::10', 80), v6);
    assert.deepEqual(parseNginxUpstream(conf, '10.1.0.3', 80), [{ address: '10.0.0.11:8080' }]);
    // `listen 80` is IPv4 only; `[::]` with ipv6only=off takes IPv4 too.
    assert.throws(() => parseNginxUpstream(conf, '2001:db8:19:30::99', 80), /no nginx server block listens/);
    assert.deepEqual(parseNginxUpstream(conf, '2001:db8:19:30::99', 8443), [{ address: '10.0.0.21:8080' }]);
    assert.deepEqual(parseNginxUpstream(conf, '10.1.0.3', 8443), [{ address: '10.0.0.21:8080' }]);
  });

  it('nginx listen forms: port only, *:port, address only, [::]', () => {
    assert.equal(nginxListens('80', '10.0.0.1', 80), true);
    assert.equal(nginxListens('*:80 default_server', '10.0.0.1', 80), true);
    assert.equal(nginxListens('10.0.0.1', '10.0.0.1', 80), true);
    assert.equal(nginxListens('10.0.0.1', '10.0.0.1', 8080), false);
    assert.equal(nginxListens('[::]:80', '10.0.0.1', 80), false);
    assert.equal(nginxListens('[::]:80', 'fd00::1', 80), true);
    assert.equal(nginxListens('[fd00::1]', 'fd00::1', 80), true);
    assert.equal(nginxListens('[fd00::2]:80', 'fd00::1', 80), false);
    assert.equal(nginxListens('unix:/run/nginx.sock', '10.0.0.1', 80), false);
  });

  it('a view that cannot be read is an error on the view, never on the check', () => {
    const spec = { kind: 'haproxy' as const, socket: '/run/haproxy.sock', backend: 'pool_http' };
    const v = parseView(
      spec,
      'sh -c ...',
      { code: 127, stdout: '', stderr: 'sh: 1: socat: not found\n' },
      '10.1.0.4',
      80,
    );
    assert.deepEqual(v.pool, []);
    assert.match(v.error ?? '', /socat: not found/);
  });

  it('commands are fixed; the socket path travels as one quoted argument', () => {
    const argv = viewCommand({ kind: 'haproxy', socket: "/run/x'; rm -rf /", backend: 'b' });
    assert.equal(argv[0], 'sh');
    assert.equal(argv.at(-1), "/run/x'; rm -rf /");
    assert.deepEqual(viewCommand({ kind: 'iptables' }), ['iptables-save', '-t', 'nat']);
  });
});
