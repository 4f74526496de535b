// A feature's piece of the viewer page, which the page renders after its own parts.
/**
 * A piece of the viewer page; `withToken` adds the page's ?token= to a URL. While the page cannot
 * reach the server its <body> has the class `unreachable`: a part showing what the server said
 * marks it stale then, or watches its own connection (the motion line watches its event stream).
 */
export interface PagePart {
  /** HTML after the figures (tiles, notices). */
  readonly html?: string;
  /** Links in the page's navigation. */
  readonly links?: readonly { href: string; label: string }[];
  /** Inline style and script; the page's Content-Security-Policy allows exactly these by hash. */
  readonly style?: string;
  readonly script?: string;
  /**
   * Cameras whose views (the main view, the tiles) this part's script plays as video through
   * window.edgecamH264.play(): the page pulls no MJPEG for them unless the player gives way.
   */
  readonly plays?: readonly string[];
}
