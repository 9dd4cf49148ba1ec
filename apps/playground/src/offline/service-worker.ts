/**
 * The service worker that keeps the app working offline once loaded. It precaches the app's built files
 * (the list and a version are written into this file at build time by plugins/offline.ts), and caches
 * every other same-origin file the app fetches (a task's checkpoint, a prepared dataset) the first time,
 * so a task that was opened once runs offline. Hashed files are served from the cache first; pages go to
 * the network first (a new deployment shows at once) and fall back to the cached index.html. Cached
 * responses keep their COOP/COEP headers, so an offline page is still cross-origin isolated.
 */

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface ServiceWorkerScope {
  readonly location: Location;
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}

const sw = globalThis as unknown as ServiceWorkerScope;
// replaced by plugins/offline.ts with the built files (relative to this file) and their hash
const PRECACHE: string[] = JSON.parse('__MULTIHEAD_PRECACHE__');
const CACHE = `multihead-${'__MULTIHEAD_VERSION__'}`;
const scoped = (path: string) => new URL(path, sw.registration.scope).href;

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map(scoped)))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((k) => k.startsWith('multihead-') && k !== CACHE).map((k) => caches.delete(k)),
        ),
      )
      .then(() => sw.clients.claim()),
  );
});

async function respond(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  if (request.mode === 'navigate') {
    try {
      const response = await fetch(request);
      if (response.ok) await cache.put(scoped('index.html'), response.clone());
      return response;
    } catch {
      return (await cache.match(scoped('index.html'))) ?? Response.error();
    }
  }
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
  return response;
}

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== sw.location.origin) return;
  event.respondWith(respond(request));
});
