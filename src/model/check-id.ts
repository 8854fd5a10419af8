// Check ids: short, random, safe in file names, Redis keys and BullMQ job ids.
// In the model (imports nothing) so the intake can mint one without loading
// the engine, SSH and capture code.
import { randomBytes } from 'node:crypto';

export function newCheckId(): string {
  return `chk-${randomBytes(5).toString('hex')}`;
}

export const CHECK_ID = /^chk-[0-9a-f]{10}$/;
