import { useEffect, useRef } from 'react';

/** How close to the end (px) still counts as reading the newest entries. */
const NEAR_END_PX = 24;

/**
 * Keep a scrolling list (the chat log, the sample strip) at its end as entries arrive or grow, so the newest
 * reply or sample is in view; `key` changes with each arrival. A reader who has scrolled up to earlier entries
 * is left there. The list scrolls itself: no scrollIntoView, which can scroll the page too, and nothing takes
 * focus, so typing in the prompt goes on undisturbed.
 */
export function useFollowEnd<T extends HTMLElement>(key: string | number) {
  const ref = useRef<T>(null);
  const following = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [key]);
  const onScroll = () => {
    const el = ref.current;
    if (el) following.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_END_PX;
  };
  return { ref, onScroll };
}
