// A sweep kept current: its event stream opened first (so that nothing happening during the
// load is missed), then the sweep and all its jobs loaded, then every event applied to the
// SweepStore. The app opens the feed of the sweep page it starts on before its first render, so
// the network work overlaps the page's start.
import { api, listAllJobs } from "./api.js";
import { followEvents } from "./events.js";
import { SweepStore } from "./sweep_store.js";

export function openSweepFeed(id) {
  const listeners = new Set();
  const feed = {
    id,
    store: new SweepStore(),
    sweep: null,
    error: null,
    live: "",
    // listener(what): "loaded", "changed", "state" or "error".
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => stream.stop(),
  };
  const notify = (what) => listeners.forEach((listener) => listener(what));
  let loaded = false;
  const buffered = [];
  let opened;
  const open = new Promise((resolve) => (opened = resolve));

  async function load() {
    const [sweep, jobs] = await Promise.all([api(`/sweeps/${encodeURIComponent(id)}`), listAllJobs(id)]);
    feed.store.setJobs(jobs);
    // Events that arrived while loading come after the stream's start: applied in order, they
    // leave every job as its latest event says.
    loaded = true;
    for (const event of buffered.splice(0)) feed.store.apply(event);
    feed.sweep = sweep;
    notify("loaded");
  }
  function fail(error) {
    feed.error = error;
    notify("error");
  }

  const stream = followEvents(`/api/v1/events?sweep=${encodeURIComponent(id)}`, {
    onState: (state) => {
      feed.live = state;
      notify("state");
    },
    onOpen: ({ resumed }) => {
      opened();
      if (loaded && !resumed) load().catch(fail);  // events may have been missed: load again
    },
    onEvent: ({ data }) => {
      if (!loaded) buffered.push(data);
      else if (feed.store.apply(data)) notify("changed");
    },
  });
  Promise.race([open, new Promise((resolve) => setTimeout(resolve, 3000))]).then(load).catch(fail);
  return feed;
}

let early = null;

// Opens the feed of the sweep the app starts on, before anything is drawn.
export function prefetchSweepFeed(id) {
  early = openSweepFeed(id);
}

// The prefetched feed of this sweep, or a new one. The caller stops it.
export function takeSweepFeed(id) {
  if (early && early.id === id) {
    const feed = early;
    early = null;
    return feed;
  }
  if (early) early.stop();
  early = null;
  return openSweepFeed(id);
}
