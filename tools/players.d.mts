export type PlayerName = 'chromium' | 'opencv' | 'vlc' | 'ffprobe' | 'mosquitto' | 'systemd-analyze';
export declare const PLAYERS: Record<PlayerName, { present(): boolean; packages: string[] }>;
/** Undefined when the player is installed, else why its tests cannot run and how to fix that. */
export declare function missingPlayer(name: PlayerName): string | undefined;
/** A suite's title, with the reason appended when the suite is skipped for a missing player. */
export declare function titled(title: string, missing: string | undefined): string;
/** How the page tests launch Debian's Chromium with playwright-core. */
export declare const CHROMIUM_LAUNCH: { executablePath: string; args: string[]; timeout: number };
/** A page-side script giving a digest of the pixels the <img> with this id shows now ('' while none). */
export declare function imageDigestScript(id: string): string;
