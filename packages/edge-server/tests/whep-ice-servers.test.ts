// A WebRTC viewer's peer connection asks no STUN server unless the `h264:` block names one:
// werift's own default is Google's, which a camera on a LAN must not contact on every offer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RTCPeerConnection } from 'werift';
import type { ClientHandle } from '../src/contracts.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { H264Hub } from '../src/h264/h264-hub.js';
import { WhepSession } from '../src/h264/whep-session.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { config, refusal } from './support/config.js';
import { memoryLogger } from './support/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-ice-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

const client: ClientHandle = { id: 1, setMode: () => undefined, sent: () => undefined, dropped: () => undefined, close: () => undefined };

/** The ICE servers of the peer connection a viewer of this `h264:` block gets. */
async function iceServersOf(block: Record<string, unknown>) {
  const { logger } = memoryLogger('silent');
  // Never started: no viewer attaches before it connects, so no encoder runs.
  const hub = new H264Hub({ name: 'front', hub: new FakeHub(), logger }, h264ConfigSchema.parse({ enabled: true, ...block }), {
    ffmpeg: { path: '/nonexistent/ffmpeg', via: 'EDGECAM_FFMPEG' },
    skipEncoderCheck: true,
  });
  const session = new WhepSession({ hub, client, logger, onClosed: () => undefined });
  try {
    return (session['pc'] as RTCPeerConnection).getConfiguration().iceServers;
  } finally {
    await session.close('test over');
    await hub.close();
  }
}

describe('WebRTC ICE servers', () => {
  it('gives a viewer no ICE servers by default', async () => {
    expect(await iceServersOf({})).toEqual([]);
  });

  it('passes the configured STUN and TURN servers through', async () => {
    const iceServers = [
      { urls: 'stun:stun.example.net:3478' },
      { urls: ['turn:turn.example.net:3478?transport=udp', 'turns:turn.example.net:5349'], username: 'cam', credential: 'secret' },
    ];
    expect(await iceServersOf({ iceServers })).toEqual(iceServers);
  });

  it('takes iceServers from the config file, at the top level or under a camera, and refuses a URL that is not stun: or turn:', () => {
    const top = config(['--config', file('top.yaml', ['h264:', '  enabled: true', '  iceServers:', '    - urls: stun:stun.lan:3478'])]);
    expect(top.features?.h264?.iceServers).toEqual([{ urls: 'stun:stun.lan:3478' }]);
    const cam = config(['--config', file('cam.yaml', ['cameras:', '  front:', '    h264:', '      iceServers: [{urls: "turn:t.lan", username: u, credential: p}]'])]);
    expect(cam.cameras?.[0]?.h264?.iceServers).toEqual([{ urls: 'turn:t.lan', username: 'u', credential: 'p' }]);
    expect(refusal(['--config', file('bad.yaml', ['h264:', '  iceServers:', '    - urls: http://stun.lan'])])).toMatch(/h264\.iceServers\.0\.urls: .*stun:/);
  });
});
