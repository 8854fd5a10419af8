// Ids and names that the queues, the inventory, the command grammar and the settings all check: in the
// model (imports nothing) so that none of them has to load another layer to validate one.

// Spelled without the i flag: the inventory's JSON Schema carries this pattern, and JSON Schema has no flags.
export const ZONE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

export const WATCH_ID = /^wch-[0-9a-f]{10}$/;
