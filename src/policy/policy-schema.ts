// The shape of the inventory's "policy:" section (fields, types, unknown keys);
// load-policy.ts then checks what a schema cannot: principal syntax, CIDRs and
// targets that exist. Adding a field: one line here.
import { z } from 'zod';
import { flag, text } from '../inventory/schema-fields.js';

const names = z.array(text()).nullish();
// Range-checked by load-policy (a whole number from 1 to 100000); quoted numbers stay accepted.
const limit = text().nullish().describe('a whole number from 1 to 100000');

export const policyRuleSchema = z.strictObject({
  name: text().nullish().describe('shown in refusals: which rule came closest'),
  users: names.describe('platform:id (slack:U0123, teams:<aad-object-id>, console:alice) or slack:* for everyone'),
  groups: names.describe('Slack user groups (slack:S...) or Teams teams (teams:<team-id>)'),
  channels: names.describe('channels the rule applies in (omit: any channel)'),
  targets: names.describe('inventory names or globs (api-*)'),
  cidrs: names.describe('ad-hoc ip:port targets and --members must fall inside'),
});

export const policySchema = z.strictObject({
  contact: text().nullish().describe('appended to every refusal'),
  admins: names.describe("may cancel anyone's check and see every check"),
  rules: z.array(policyRuleSchema).nullish(),
  allowEveryone: flag('allowEveryone')
    .nullish()
    .describe('explicit opt-in: every user may check every target (warned about)'),
  limits: z.strictObject({ perUserPerMinute: limit, perChannelPerMinute: limit, inFlightPerTarget: limit }).nullish(),
});
