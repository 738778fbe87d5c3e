/**
 * Registers the service worker (src/sw/sw.js, built into dist/sw.js) in the production build, and reloads
 * once when it first takes control of a page that is not cross-origin isolated: the worker's responses carry
 * COOP/COEP, so the reloaded page is isolated (threaded WebAssembly) even on a host that cannot set headers.
 */
const RELOADED = 'small-gpt-coi-reload';

export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  const sw = navigator.serviceWorker;
  const base = import.meta.env.BASE_URL;
  sw.register(`${base}sw.js`, { scope: base }).catch((e: unknown) => console.warn('service worker not registered:', e));
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (isolated) {
    sessionStorage.removeItem(RELOADED);
    return;
  }
  const reload = () => {
    // Once per tab: if the host (or the browser) still refuses isolation, the app runs without threads.
    if (sessionStorage.getItem(RELOADED)) return;
    sessionStorage.setItem(RELOADED, '1');
    location.reload();
  };
  if (sw.controller) reload();
  else sw.addEventListener('controllerchange', reload, { once: true });
}
