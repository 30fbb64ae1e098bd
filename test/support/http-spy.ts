/**
 * Counting the outgoing HTTP requests of this process (src/drivers/http.ts
 * sends every OpenStack call with `http.request` / `https.request`).
 */
import http from 'node:http';
import https from 'node:https';

import { vi } from 'vitest';

/** Counts requests whose method matches and whose URL contains `fragment`; undone by `vi.restoreAllMocks()`. */
export function countHttpRequests(method: string, fragment: string): { count: () => number } {
  let n = 0;
  for (const mod of [http, https]) {
    const real = mod.request;
    vi.spyOn(mod, 'request').mockImplementation(((
      url: string | URL,
      options: http.RequestOptions,
      callback?: (res: http.IncomingMessage) => void,
    ) => {
      if ((options?.method ?? 'GET') === method && String(url).includes(fragment)) n++;
      return real(url, options, callback);
    }) as typeof http.request);
  }
  return { count: () => n };
}
