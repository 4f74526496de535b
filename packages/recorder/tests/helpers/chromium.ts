/**
 * Chromium's <video> as a player of files: Debian's Chromium (tools/players.mjs launches it)
 * plays each file from a loopback HTTP server that answers Range requests, as a browser gets a
 * recording, and reports how far it got.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../../../../tools/players.mjs';

/** The little of the page's DOM the player uses (the package builds without the DOM library). */
interface PageVideo {
  muted: boolean;
  src: string;
  readonly currentTime: number;
  readonly duration: number;
  readonly error: { code: number; message: string } | null;
  onended: (() => void) | null;
  onerror: (() => void) | null;
  play(): Promise<void>;
  getVideoPlaybackQuality(): { totalVideoFrames: number };
}
declare const document: { createElement(tag: 'video'): PageVideo; body: { append(node: PageVideo): void } };

export interface VideoResult {
  readonly ended: boolean;
  readonly error: string | null;
  readonly currentTime: number;
  readonly duration: number;
  /** Frames the element decoded (getVideoPlaybackQuality().totalVideoFrames). */
  readonly frames: number;
}

/** Serves the files of `dir` by name, with Range. */
async function fileServer(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      const url = (req.url ?? '/').split('?')[0]!;
      if (url === '/') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>player</title>');
      const path = join(dir, basename(decodeURIComponent(url)));
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) return void res.writeHead(404).end();
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      const [start, end] = m ? [Number(m[1]), m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1] : [0, st.size - 1];
      res.writeHead(m ? 206 : 200, {
        'Content-Type': 'video/mp4',
        'Accept-Ranges': 'bytes',
        'Content-Length': end - start + 1,
        ...(m ? { 'Content-Range': `bytes ${start}-${end}/${st.size}` } : {}),
      });
      createReadStream(path, { start, end }).pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** A headless Chromium and a file server over `dir`; `play(name)` plays one file to its end. */
export async function chromiumPlayer(dir: string): Promise<{ play(name: string, timeoutMs?: number): Promise<VideoResult>; close(): Promise<void> }> {
  const server = await fileServer(dir);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let browser: Browser;
  try {
    browser = await chromium.launch(CHROMIUM_LAUNCH);
  } catch (err) {
    server.close();
    throw err;
  }
  const page = await browser.newPage();
  return {
    async play(name, timeoutMs = 20_000) {
      await page.goto(base);
      return page.evaluate(
        ([url, timeout]) =>
          new Promise<VideoResult>((resolve) => {
            const v = document.createElement('video');
            v.muted = true;
            document.body.append(v);
            const report = (ended: boolean): void =>
              resolve({ ended, error: v.error ? `${v.error.code}: ${v.error.message}` : null, currentTime: v.currentTime, duration: v.duration, frames: v.getVideoPlaybackQuality().totalVideoFrames });
            v.onended = () => report(true);
            v.onerror = () => report(false);
            setTimeout(() => report(false), timeout);
            v.src = url;
            v.play().catch(() => undefined);
          }),
        [base + encodeURIComponent(name), timeoutMs] as const,
      );
    },
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
