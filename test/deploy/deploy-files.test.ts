// The deploy files hold to the package: systemd-analyze accepts the units, and
// every lbcheck command, option and variable in the units, compose.yaml and
// the Dockerfile exists (a command renamed in the CLI fails here).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { cliOutput, commandNames, optionsOf } from '../docs/cli-docs.js';
import { documentedVariables } from '../docs/settings-docs.js';
import { dockerInstructions, envNames, lbcheckArgs, readRepo, UNIT_DIR, unitFiles } from './deploy-files.js';

const commands = new Map(commandNames(cliOutput(['--help']).stdout).map((c) => [c, cliOutput([c, '--help']).stdout]));
const variables = new Set(documentedVariables());
const scratch = mkdtempSync(join(tmpdir(), 'lbcheck-deploy-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** What is wrong with an lbcheck invocation: a command it lacks, an option that command lacks. */
function problemsOf(args: readonly string[] | undefined, where: string): string[] {
  if (args === undefined || args.length === 0) return [`${where}: no lbcheck command`];
  const [command = '', ...rest] = args;
  const help = commands.get(command);
  if (help === undefined) return [`${where}: lbcheck has no command "${command}" (lbcheck --help)`];
  const options = optionsOf(help);
  return rest
    .filter((a) => a.startsWith('--'))
    .map((a) => a.split('=')[0] ?? a)
    .filter((flag) => !options.has(flag))
    .map((flag) => `${where}: ${flag} is not an option of lbcheck ${command}`);
}

/** systemd-analyze verify: its warnings (unknown keys, bad values) go to stderr with exit 0, so both count. */
function verify(unit: string): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
  if (r.error)
    throw new Error(`systemd-analyze: ${r.error.message} (install the systemd package: scripts/provision.sh)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('systemd units', () => {
  const units = unitFiles();
  it('there is a bot unit and a worker unit', () => {
    assert.deepEqual(units.map((u) => u.file).sort(), ['lbcheck-bot.service', 'lbcheck-worker@.service']);
  });

  for (const unit of units)
    it(`${unit.file}: systemd-analyze verify accepts it without a warning`, () => {
      const r = verify(join(UNIT_DIR, unit.file));
      assert.equal(r.status, 0, r.output);
      assert.equal(r.output, '');
    });

  it('systemd-analyze verify does report a misspelt key (the check above can fail)', () => {
    const copy = join(scratch, 'lbcheck-bot.service');
    writeFileSync(copy, `${readRepo('deploy/systemd/lbcheck-bot.service')}\n[Service]\nNoNewPrivilege=yes\n`);
    assert.match(verify(copy).output, /Unknown key/);
  });

  for (const unit of units)
    it(`${unit.file}: hardened, runs a real lbcheck command, sets only lbcheck's variables`, () => {
      const get = (key: string): string[] => unit.service.filter(([k]) => k === key).map(([, v]) => v);
      assert.deepEqual(get('NoNewPrivileges'), ['yes']);
      assert.deepEqual(get('ProtectSystem'), ['strict']);
      assert.equal(get('ReadWritePaths').length, 1);
      assert.notEqual(get('User')[0] ?? 'root', 'root');
      const ambient = get('AmbientCapabilities').join(' ').trim();
      if (unit.file.startsWith('lbcheck-worker')) assert.equal(ambient, 'CAP_NET_RAW CAP_NET_ADMIN');
      else assert.equal(ambient, '', 'only the worker gets capabilities');
      const exec = get('ExecStart');
      assert.equal(exec.length, 1);
      assert.deepEqual(problemsOf(lbcheckArgs((exec[0] ?? '').split(/\s+/)), unit.file), []);
      const unknown = get('Environment')
        .flatMap(envNames)
        .filter((name) => !variables.has(name));
      assert.deepEqual(unknown, [], 'variables lbcheck does not read');
    });
});

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  cap_add?: string[];
  security_opt?: string[];
}

describe('compose.yaml', () => {
  const text = readRepo('compose.yaml');
  const compose = parse(text) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const lbcheck = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('lbcheck'));
  const dockerEnv = dockerInstructions(readRepo('Dockerfile')).filter(
    (i) => i.stage === 'runtime' && i.keyword === 'ENV',
  );
  const auditDir = /LBCHECK_AUDIT_DIR=(\S+)/.exec(dockerEnv.map((i) => i.args).join(' '))?.[1];

  it('runs Redis, one bot (serve) and one worker per zone, zones distinct', () => {
    assert.ok(compose.services.redis);
    const roles = lbcheck.map(([, s]) => s.command?.[0]);
    assert.equal(roles.filter((r) => r === 'serve').length, 1);
    const zones = lbcheck.filter(([, s]) => s.command?.[0] === 'worker').map(([, s]) => s.command?.[2]);
    assert.ok(zones.length >= 2, 'one worker per zone');
    assert.deepEqual(zones, [...new Set(zones)]);
  });

  for (const [name, service] of lbcheck)
    it(`${name}: its command exists in lbcheck --help with these options; its variables are lbcheck's`, () => {
      assert.deepEqual(problemsOf(service.command, name), []);
      const unknown = Object.keys(service.environment ?? {}).filter((v) => !variables.has(v));
      assert.deepEqual(unknown, []);
    });

  it("the bot keeps the audit log and the evidence archive on volumes, at the image's LBCHECK_AUDIT_DIR", () => {
    assert.ok(auditDir, 'the Dockerfile sets LBCHECK_AUDIT_DIR');
    const bot = lbcheck.find(([, s]) => s.command?.[0] === 'serve')?.[1];
    const mounts = (bot?.volumes ?? []).map((v) => v.split(':'));
    for (const target of [auditDir, `${auditDir}/evidence`]) {
      const mount = mounts.find(([, t]) => t === target);
      assert.ok(mount, `nothing mounted at ${target}`);
      assert.ok(compose.volumes[mount[0] ?? ''] !== undefined, `${target} is on a named volume`);
    }
  });

  it('only workers get capabilities; the bot runs with no-new-privileges', () => {
    for (const [name, s] of lbcheck) {
      if (s.command?.[0] === 'worker') assert.deepEqual(s.cap_add, ['NET_RAW', 'NET_ADMIN'], name);
      else {
        assert.equal(s.cap_add, undefined, name);
        assert.ok(s.security_opt?.includes('no-new-privileges:true'), name);
      }
    }
  });

  it('every ${VARIABLE} it interpolates is in .env.example', () => {
    const example = readRepo('.env.example');
    const used = [...text.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1] ?? '');
    assert.ok(used.length > 0);
    assert.deepEqual(
      used.filter((v) => !new RegExp(`^# ${v}=`, 'm').test(example)),
      [],
    );
  });
});

describe('Dockerfile', () => {
  const steps = dockerInstructions(readRepo('Dockerfile'));
  const runtime = steps.filter((s) => s.stage === 'runtime');

  it('builds in a build stage and runs from a runtime stage, as a user that is not root', () => {
    assert.deepEqual([...new Set(steps.map((s) => s.stage))], ['', 'build', 'runtime']);
    const users = runtime.filter((s) => s.keyword === 'USER').map((s) => s.args);
    assert.equal(users.length, 1);
    assert.notEqual(users[0], 'root');
  });

  it('its default command is a real lbcheck command, and it sets only variables lbcheck reads', () => {
    const json = (keyword: string): string[] =>
      JSON.parse(runtime.find((s) => s.keyword === keyword)?.args ?? '[]') as string[];
    assert.deepEqual(json('ENTRYPOINT'), ['lbcheck']);
    assert.deepEqual(problemsOf(json('CMD'), 'CMD'), []);
    const unknown = runtime
      .filter((s) => s.keyword === 'ENV')
      .flatMap((s) => envNames(s.args))
      .filter((v) => v !== 'NODE_ENV' && !variables.has(v));
    assert.deepEqual(unknown, []);
  });
});
