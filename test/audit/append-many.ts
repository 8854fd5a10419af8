// Appends N command records to an audit log, as a second bot process would.
// Usage: node append-many.js <dir> <count> <label>
import { AuditLog } from '../../src/audit/audit-log.js';

const [dir = '', countText = '0', label = 'p'] = process.argv.slice(2);
const log = new AuditLog(dir);
for (let i = 0; i < Number(countText); i++) {
  await log.append({
    type: 'command',
    outcome: 'answered',
    command: `history ${label}-${i}`,
    platform: 'console',
    user: label,
    channel: 'console',
  });
}
