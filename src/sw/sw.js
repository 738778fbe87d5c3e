/*
 * The app's service worker (plain JavaScript, copied into dist/ by scripts/serviceWorkerPlugin.ts with the
 * build's file list and version). It does two things:
 *
 * 1. Offline: on install it stores every file of the build — the app, the wasm, the bundled datasets and the
 *    starter models — so after one visit the app runs with the network off. Files are served from the cache
 *    first (their names carry a hash, or the version changes with their bytes); a page (navigation) goes to
 *    the network first, so a new deployment is seen, and falls back to the stored index.html.
 * 2. Cross-origin isolation on any host: every response it serves carries COOP/COEP (and CORP), as
 *    scripts/wasmThreadsPlugin.ts's ISOLATION_HEADERS do on the dev and preview servers, so a static host that
 *    cannot set headers still gives the page SharedArrayBuffer (threaded WebAssembly): the coi-serviceworker
 *    technique. The page reloads once when the worker first takes control (src/sw/register.ts).
 */
const FILES = self.__PRECACHE__;
const VERSION = self.__VERSION__;
const CACHE = `small-gpt-${VERSION}`;
const SCOPE = new URL(self.registration.scope);
const INDEX = new URL('index.html', SCOPE).href;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // One at a time in small groups: a 20 MB build should not take every connection from the page.
      for (let i = 0; i < FILES.length; i += 4) {
        await cache.addAll(FILES.slice(i, i + 4).map((f) => new Request(new URL(f, SCOPE).href, { cache: 'reload' })));
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith('small-gpt-') && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

/** The response with the isolation headers added (an opaque response cannot be changed, nor needs to be). */
function isolated(res) {
  if (!res || res.status === 0 || res.type === 'opaque' || res.type === 'opaqueredirect') return res;
  const headers = new Headers(res.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

async function fromCache(request) {
  const cache = await caches.open(CACHE);
  // ignoreVary: a module script asks with an Origin header the stored request lacked (sirv and others send Vary: Origin).
  return (await cache.match(request, { ignoreSearch: true, ignoreVary: true })) ?? undefined;
}

async function handle(request) {
  if (request.mode === 'navigate') {
    try {
      return isolated(await fetch(request));
    } catch (e) {
      const page = (await caches.open(CACHE).then((c) => c.match(INDEX, { ignoreVary: true }))) ?? (await fromCache(request));
      if (page) return isolated(page);
      throw e;
    }
  }
  const cached = await fromCache(request);
  if (cached) return isolated(cached);
  return isolated(await fetch(request));
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  // Only this app's own GET requests; the rest (a range request, another origin) pass through untouched.
  if (request.method !== 'GET' || url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname) || request.headers.has('range')) return;
  event.respondWith(handle(request));
});
