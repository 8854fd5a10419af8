// What each chat platform's folder provides to `lbcheck serve`/`start`: read
// its settings from the environment, say what it will run, start it. The bot
// loads adapters/<id>/platform.js for every chat platform src/model/platforms.ts
// lists, so serve names no platform itself.
import type { AuditLog } from '../src/audit/audit-log.js';
import type { Inventory } from '../src/inventory/inventory-types.js';
import type { Logger } from '../src/log.js';
import { CHAT_PLATFORM_IDS, platformInfo, type PlatformInfo } from '../src/model/platforms.js';
import type { Incoming, IntakeReply } from '../src/pipeline/intake.js';
import type { ChatAction } from '../src/pipeline/actions.js';
import type { ChatPoster } from '../src/pipeline/poster.js';
import type { PipelineState } from '../src/pipeline/state.js';
import type { ProbeResult } from '../src/ops/readiness.js';

export interface PlatformContext {
  log: Logger;
  /** The command intake, with this platform's command prefix. */
  intake: (incoming: Incoming) => Promise<IntakeReply>;
  /** A button click, as a command by the clicking user (same intake, this platform's prefix). */
  action?: (incoming: Omit<Incoming, 'text'>, action: ChatAction) => Promise<IntakeReply>;
  inventory: () => Inventory | undefined;
  /** The fast-failing state the intake uses (replay claims and the like). */
  state: PipelineState;
  audit: AuditLog;
}

export interface RunningPlatform {
  poster: ChatPoster;
  /** Where users or the platform reach it, for the startup lines. */
  endpoint: string;
  /** For /readyz: whether the platform accepts this bot now (e.g. Slack's auth.test), in words. */
  readiness?(): Promise<ProbeResult>;
  close(): Promise<void>;
}

export interface ChatPlatform<Settings = unknown> {
  readonly info: PlatformInfo;
  /** The variable that turns it on, for the startup line when none is set. */
  readonly enabledBy: string;
  /** Its settings, or undefined when the environment does not configure it; throws ConfigError when it is wrong. */
  fromEnv(env: NodeJS.ProcessEnv): Settings | undefined;
  /** One phrase for the startup line, e.g. "Slack (HTTP on port 3000)". */
  describe(settings: Settings): string;
  start(settings: Settings, ctx: PlatformContext): Promise<RunningPlatform>;
}

/** A platform with its settings read, ready to start. */
export interface ConfiguredPlatform {
  platform: ChatPlatform;
  settings: unknown;
}

/** Loads every chat platform's module; a module that does not declare the platform it is loaded for is a bug. */
export async function loadChatPlatforms(): Promise<ChatPlatform[]> {
  return Promise.all(
    CHAT_PLATFORM_IDS.map(async (id) => {
      const { platform } = (await import(`./${id}/platform.js`)) as { platform?: ChatPlatform };
      if (!platform || platform.info !== platformInfo(id))
        throw new Error(`adapters/${id}/platform.ts must export the "${id}" platform`);
      return platform;
    }),
  );
}

/** The platforms the environment configures, each with its settings (every problem found before anything starts). */
export function configuredPlatforms(platforms: readonly ChatPlatform[], env: NodeJS.ProcessEnv): ConfiguredPlatform[] {
  return platforms.flatMap((platform) => {
    const settings = platform.fromEnv(env);
    return settings === undefined ? [] : [{ platform, settings }];
  });
}
