// Per-run slot reservation. A slot fixes the run's address block and is held by
// an atomic mkdir under /run, recording the owner PID and everything the run
// created. A run that died without tearing down (kill -9) leaves its record
// behind; the next lab start reaps it, so leaks do not accumulate.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SLOT_COUNT } from './addresses.js';

export const SLOT_ROOT = '/run/lbcheck-lab';

export interface SlotRecord {
  pid: number;
  runId: string;
  namespaces: string[];
  rootLink: string;
  tempDir: string;
}

export function slotDir(slot: number): string {
  return join(SLOT_ROOT, `slot-${slot}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readSlot(slot: number): SlotRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(slotDir(slot), 'record.json'), 'utf8')) as SlotRecord;
  } catch {
    return undefined;
  }
}

export function writeSlot(slot: number, record: SlotRecord): void {
  writeFileSync(join(slotDir(slot), 'record.json'), JSON.stringify(record));
}

export function releaseSlot(slot: number): void {
  rmSync(slotDir(slot), { recursive: true, force: true });
}

/** Slots whose owner process is gone: their resources must be reaped. */
export function staleSlots(): { slot: number; record: SlotRecord | undefined }[] {
  mkdirSync(SLOT_ROOT, { recursive: true });
  const stale: { slot: number; record: SlotRecord | undefined }[] = [];
  for (const name of readdirSync(SLOT_ROOT)) {
    const m = /^slot-(\d+)$/.exec(name);
    if (!m) continue;
    const slot = Number(m[1]);
    const record = readSlot(slot);
    if (record === undefined || !pidAlive(record.pid)) stale.push({ slot, record });
  }
  return stale;
}

/** Reserve a free slot; the random start spreads concurrent runs apart. */
/**
 * LBCHECK_LAB_SLOT pins the slot (its addresses): fixtures refreshed one by one stay in the slot the set was
 * recorded in, so reports of one target compare (report-diff.test.ts). A pinned slot that is taken is an error.
 */
function pinnedSlot(): number | undefined {
  const raw = process.env.LBCHECK_LAB_SLOT;
  if (raw === undefined || raw === '') return undefined;
  const slot = Number(raw);
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT)
    throw new Error(`LBCHECK_LAB_SLOT=${raw}: not a slot number from 0 to ${SLOT_COUNT - 1}`);
  return slot;
}

export function reserveSlot(runId: string): number {
  mkdirSync(SLOT_ROOT, { recursive: true });
  const pinned = pinnedSlot();
  const start = pinned ?? Math.floor(Math.random() * SLOT_COUNT);
  for (let i = 0; i < (pinned === undefined ? SLOT_COUNT : 1); i++) {
    const slot = (start + i) % SLOT_COUNT;
    try {
      mkdirSync(slotDir(slot));
    } catch {
      continue;
    }
    writeSlot(slot, { pid: process.pid, runId, namespaces: [], rootLink: '', tempDir: '' });
    return slot;
  }
  if (pinned !== undefined) throw new Error(`lab slot ${pinned} (LBCHECK_LAB_SLOT) is taken by another lab run`);
  throw new Error(`all ${SLOT_COUNT} lab slots in ${SLOT_ROOT} are taken; are that many lab runs really alive?`);
}
