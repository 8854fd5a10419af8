// Independent readers for what stepEvidence writes, so tests check the files
// themselves: a PNG's structure (signature, chunk CRCs, IDAT inflating to the
// declared size), pcapng interface names, and tcpdump reading a capture back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Asserts a well-formed PNG and returns its size. */
export function checkPng(png: Buffer): { width: number; height: number } {
  assert.ok(png.subarray(0, 8).equals(SIGNATURE), 'PNG signature');
  let at = 8;
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  let colourType = -1;
  let sawEnd = false;
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(png.readUInt32BE(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      colourType = data[9] ?? -1;
    }
    if (type === 'IDAT') idat.push(data);
    if (type === 'IEND') sawEnd = true;
    at += 12 + length;
  }
  assert.ok(sawEnd, 'PNG has IEND');
  assert.equal(colourType, 3, 'indexed colour');
  assert.equal(inflateSync(Buffer.concat(idat)).length, (width + 1) * height, 'IDAT holds every row');
  return { width, height };
}

/** Interface names from a pcapng's Interface Description Blocks, and how many packets it holds. */
export function readPcapng(file: Buffer): { interfaces: string[]; packets: number; linkTypes: number[] } {
  const interfaces: string[] = [];
  const linkTypes: number[] = [];
  let packets = 0;
  let at = 0;
  while (at + 12 <= file.length) {
    const type = file.readUInt32LE(at);
    const total = file.readUInt32LE(at + 4);
    assert.equal(file.readUInt32LE(at + total - 4), total, 'block trailer length');
    if (type === 1) {
      linkTypes.push(file.readUInt16LE(at + 8));
      let o = at + 16;
      while (o < at + total - 4) {
        const code = file.readUInt16LE(o);
        const len = file.readUInt16LE(o + 2);
        if (code === 0) break;
        if (code === 2) interfaces.push(file.toString('utf8', o + 4, o + 4 + len));
        o += 4 + len + ((4 - (len % 4)) % 4);
      }
    }
    if (type === 6) packets++;
    at += total;
  }
  assert.equal(at, file.length, 'blocks fill the file');
  return { interfaces, packets, linkTypes };
}

/** Every opt_comment of the section header and interface blocks, in file order. */
export function pcapngComments(file: Buffer): string[] {
  const comments: string[] = [];
  let at = 0;
  while (at + 12 <= file.length) {
    const type = file.readUInt32LE(at);
    const total = file.readUInt32LE(at + 4);
    // Options start after the fixed part: 16 bytes in a section header, 8 in an interface block.
    const fixed = type === 0x0a0d0d0a ? 16 : type === 1 ? 8 : -1;
    for (let o = at + 8 + fixed; fixed >= 0 && o < at + total - 4;) {
      const code = file.readUInt16LE(o);
      const len = file.readUInt16LE(o + 2);
      if (code === 0) break;
      if (code === 1) comments.push(file.toString('utf8', o + 4, o + 4 + len));
      o += 4 + len + ((4 - (len % 4)) % 4);
    }
    at += total;
  }
  return comments;
}

/** The interface names tshark reads from a pcapng (capinfos -I, which ships with tshark), empty ones included. */
export function tsharkInterfaces(file: Buffer): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'lbcheck-evidence-'));
  try {
    const path = join(dir, 'both.pcapng');
    writeFileSync(path, file);
    const r = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `tshark -r: ${r.stderr}`);
    const info = spawnSync('capinfos', ['-I', path], { encoding: 'utf8' });
    assert.equal(info.status, 0, `capinfos -I: ${info.stderr}`);
    const seen = r.stdout.split('\n').filter((l) => l !== '');
    const listed = [...info.stdout.matchAll(/^\s*Name\s*=\s*(\S+)\s*$/gm)].map((m) => m[1] ?? '');
    for (const name of seen)
      assert.ok(listed.includes(name), `tshark read ${name}, capinfos lists ${listed.join(', ')}`);
    return listed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tcpdump -r on the bytes: its output lines, and stderr (which must hold no warning). */
export function tcpdumpReads(bytes: Buffer, name: string): { lines: string[]; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lbcheck-evidence-'));
  try {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const r = spawnSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `tcpdump -r ${name}: ${r.stderr}`);
    return { lines: r.stdout.split('\n').filter((l) => l !== ''), stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The decode's arrow lines: one per packet row ("+1.2 ms ...") and one per missing reply ("(never) ..."). */
export function decodeArrowLines(decode: string): string[] {
  return decode.split('\n').filter((l) => /^\s+(?:\+[\d.]+ m?s|\(never\))\s/.test(l));
}

/** The SVG's arrows: data-count of each packet arrow, and how many dashed "missing" arrows. */
export function svgArrows(svg: string): { counts: number[]; missing: number } {
  const counts = [...svg.matchAll(/class="arrow packet" data-count="(\d+)"/g)].map((m) => Number(m[1]));
  const missing = [...svg.matchAll(/class="arrow missing"/g)].length;
  return { counts, missing };
}
