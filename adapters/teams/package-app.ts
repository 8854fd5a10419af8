// `npm run teams:package`: builds lbcheck-teams.zip (manifest.json with the
// app id filled in, plus the two icons) for sideloading into Teams.
// Usage: MicrosoftAppId=<guid> node dist/adapters/teams/package-app.js [out.zip]
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { pngChunk } from '../../src/evidence/png-chunk.js';

/** A square PNG: a filled background with a lighter inner square (the icons Teams asks for). */
export function squarePng(
  size: number,
  rgba: [number, number, number, number],
  inner: [number, number, number, number],
): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const edge = Math.min(x, y, size - 1 - x, size - 1 - y) >= size / 4;
      Buffer.from(edge ? inner : rgba).copy(row, 1 + x * 4);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A zip archive of stored (uncompressed) entries. */
export function zip(entries: { name: string; data: Buffer }[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(e.data.length, 18);
    h.writeUInt32LE(e.data.length, 22);
    h.writeUInt16LE(name.length, 26);
    local.push(h, name, e.data);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(e.data.length, 20);
    c.writeUInt32LE(e.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += h.length + name.length + e.data.length;
  }
  const centralBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, centralBuf, end]);
}

export function teamsPackage(appId: string): Buffer {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(appId)) {
    throw new Error(`MicrosoftAppId ${JSON.stringify(appId)} is not the bot's Azure app id (a GUID)`);
  }
  const template = readFileSync(new URL('../../../adapters/teams/manifest/manifest.json', import.meta.url), 'utf8');
  return zip([
    { name: 'manifest.json', data: Buffer.from(template.replaceAll('{{MicrosoftAppId}}', appId)) },
    { name: 'color.png', data: squarePng(192, [31, 111, 235, 255], [255, 255, 255, 255]) },
    { name: 'outline.png', data: squarePng(32, [0, 0, 0, 0], [255, 255, 255, 255]) },
  ]);
}

if (process.argv[1]?.endsWith('package-app.js')) {
  const out = process.argv[2] ?? 'lbcheck-teams.zip';
  try {
    writeFileSync(out, teamsPackage(process.env.MicrosoftAppId ?? ''));
    console.log(`wrote ${out}: upload it in Teams → Apps → Manage your apps → Upload an app`);
  } catch (err) {
    console.error(`lbcheck teams package: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
