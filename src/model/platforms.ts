// The platforms lbcheck answers on: the one list core code reads (policy
// principals, command prefixes). Each chat platform's code lives in its own
// folder, adapters/<id>/, whose platform.ts the bot loads by this id: adding a
// platform is that folder plus one line here.

export interface PlatformInfo {
  readonly id: string;
  /** How users invoke the bot there, for usage lines ("/lbcheck", "@lbcheck"). */
  readonly commandPrefix: string;
  /** A chat platform started from its environment (the console is the fallback, not started this way). */
  readonly chat: boolean;
}

export const PLATFORMS = [
  { id: 'console', commandPrefix: '/lbcheck', chat: false },
  { id: 'slack', commandPrefix: '/lbcheck', chat: true },
  { id: 'teams', commandPrefix: '@lbcheck', chat: true },
] as const satisfies readonly PlatformInfo[];

export type PlatformId = (typeof PLATFORMS)[number]['id'];

export const CHAT_PLATFORM_IDS: readonly PlatformId[] = PLATFORMS.filter((p) => p.chat).map((p) => p.id);

export function platformInfo(id: string): PlatformInfo | undefined {
  return PLATFORMS.find((p) => p.id === id);
}
