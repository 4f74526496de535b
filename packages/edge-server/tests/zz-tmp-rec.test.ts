import { it } from 'vitest';
import { startRealServer } from './http-fixtures/real-server.js';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
const run = promisify(execFile);
it('rec', async () => {
  const s = await startRealServer({ fps: 10 });
  const F = '/work/main/node_modules/@ffmpeg-installer/linux-x64/ffmpeg';
  await run(F, ['-y','-v','error','-use_wallclock_as_timestamps','1','-i',`${s.url}/stream.mjpg`,'-t','3','-c','copy','/tmp/clip.mkv'], {timeout: 20000});
  await run(F, ['-y','-v','error','-i',`${s.url}/stream.mjpg`,'-t','3','-c','copy','/tmp/clip2.mkv'], {timeout: 20000});
  await s.close();
  console.log(execFileSync('sh', ['-c', `for f in /tmp/clip.mkv /tmp/clip2.mkv; do ${F} -hide_banner -i $f -f null - 2>&1 | grep -E "Stream|Duration|frame=" | tail -3; done`], {encoding:'utf8'}));
}, 60000);
