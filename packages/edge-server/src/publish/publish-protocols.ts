// Which output protocols the resolved ffmpeg has, so a target it cannot reach (srt:// with the
// shipped ffmpeg 4.1, built without libsrt) is refused with a sentence instead of retried forever.
import { EdgeServerError } from '../errors.js';
import { ffmpegListing } from '../sources/ffmpeg/ffmpeg-probe.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import { maskedUrl, PUBLISH_SCHEMES, type PublishTarget } from './publish-config.js';

/** The protocols of the `Output:` part of `ffmpeg -protocols`. */
export function parseOutputProtocols(listing: string): Set<string> {
  const at = listing.indexOf('Output:');
  if (at < 0) return new Set();
  return new Set(listing.slice(at + 'Output:'.length).split(/\s+/).filter((w) => /^[a-z0-9_]+$/.test(w)));
}

/** The output protocols of this ffmpeg binary (`ffmpeg -protocols`, asked once per binary). */
export async function listOutputProtocols(ffmpeg: ResolvedFfmpeg): Promise<Set<string>> {
  return parseOutputProtocols(await ffmpegListing(ffmpeg, '-protocols'));
}

/** Why this ffmpeg cannot publish to the target, or undefined when it can. */
export function missingProtocol(ffmpeg: ResolvedFfmpeg, protocols: Set<string>, target: PublishTarget, camera: string): string | undefined {
  const needed = PUBLISH_SCHEMES[target.scheme].protocol;
  if (protocols.has(needed)) return undefined;
  const fix =
    needed === 'srt'
      ? 'publish with rtsp:// or rtmp:// instead, or set EDGECAM_FFMPEG to an ffmpeg built with --enable-libsrt'
      : `publish with rtsp:// instead, or set EDGECAM_FFMPEG to an ffmpeg that lists ${needed} in \`ffmpeg -protocols\``;
  return `camera ${camera}: publish target ${maskedUrl(target)} needs ffmpeg's ${needed} protocol, which ${ffmpeg.path} (from ${ffmpeg.via}) does not have; ${fix}`;
}

/** Rejects with PUBLISH_PROTOCOL_MISSING, naming the target and the fix, when ffmpeg cannot reach one of the targets. */
export async function checkPublishTargets(ffmpeg: ResolvedFfmpeg, targets: readonly PublishTarget[], camera: string): Promise<void> {
  if (targets.length === 0) return;
  const protocols = await listOutputProtocols(ffmpeg);
  for (const t of targets) {
    const why = missingProtocol(ffmpeg, protocols, t, camera);
    if (why !== undefined) throw new EdgeServerError('PUBLISH_PROTOCOL_MISSING', why);
  }
}
