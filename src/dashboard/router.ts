/** Path routing under /dashboard/ with the History API (every path serves index.html). */
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/dashboard/';

export type Route = 'availability' | 'find' | 'reservations' | 'flavors' | 'maintenance' | 'notfound';

export function routeOf(pathname: string): { route: Route; params: URLSearchParams } {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname.replace(/^\/dashboard\/?/, '');
  const name = rest.replace(/\/+$/, '');
  const params = new URLSearchParams(location.search);
  const known: Record<string, Route> = {
    '': 'availability',
    availability: 'availability',
    find: 'find',
    reservations: 'reservations',
    flavors: 'flavors',
    maintenance: 'maintenance',
  };
  return { route: known[name] ?? 'notfound', params };
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  const url = to.startsWith('/') ? to : `${BASE}${to}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const l of listeners) l();
}

export function useLocation(): { pathname: string; search: string } {
  const [loc, setLoc] = useState({ pathname: location.pathname, search: location.search });
  useEffect(() => {
    const update = () => setLoc({ pathname: location.pathname, search: location.search });
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

/** A link that navigates inside the portal without reloading it. */
export function onLinkClick(e: MouseEvent): void {
  const a = e.currentTarget as HTMLAnchorElement;
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href') ?? BASE);
}
