// The one shape of everything the HTTP router serves: the core's endpoints and the features'
// alike. A feature hands the router a list of these; the router never names a feature.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpContext } from './http-context.js';

/**
 * One endpoint. `root` routes match the whole path; `camera` routes match the path under
 * /cams/NAME/ with that camera in the context; `both` also answer at the root for the default camera.
 */
export interface Route {
  /** The path, or a pattern over it whose groups the handler gets as `params`. */
  readonly path: string | RegExp;
  /** Where the path is looked up; default `root`. */
  readonly under?: 'root' | 'camera' | 'both';
  /** Checked by the router (GET takes HEAD too); absent: the handler checks the method itself. */
  readonly methods?: readonly ('GET' | 'PUT' | 'POST' | 'DELETE')[];
  /** A long request (a stream): limited by stream slots, not by the per-host request rate. */
  readonly long?: boolean;
  /** Answered without a token and to any Host (health probes). */
  readonly open?: boolean;
  handle(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, params: readonly string[]): void | Promise<void>;
}

/** The groups of `route`'s path matched against `path`, or undefined when it does not match. */
export function matchRoute(route: Route, path: string): readonly string[] | undefined {
  if (typeof route.path === 'string') return route.path === path ? [] : undefined;
  const m = route.path.exec(path);
  return m ? m.slice(1).map((g) => g ?? '') : undefined;
}

/** The first route of `routes` that `path` names `under` the root or a camera, with its groups. */
export function findRoute(routes: readonly Route[], path: string, under: 'root' | 'camera'): { route: Route; params: readonly string[] } | undefined {
  for (const route of routes) {
    const where = route.under ?? 'root';
    if (where !== 'both' && where !== under) continue;
    const params = matchRoute(route, path);
    if (params) return { route, params };
  }
  return undefined;
}
