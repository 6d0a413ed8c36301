// Re-rendering on new blocks without a backlog: blocks may come faster than a slow node or
// browser renders, and only the newest one is worth showing.

/**
 * Wraps `task` so that calls made while it runs collapse into one more run with the latest
 * argument; a failed run is handed to `onError` and later calls still run.
 */
export function latestOnly(task, onError) {
  let running = false;
  let queued = false;
  let latest;
  return async function schedule(argument) {
    latest = argument;
    queued = true;
    if (running) return;
    running = true;
    while (queued) {
      queued = false;
      try {
        await task(latest);
      } catch (error) {
        onError(error);
      }
    }
    running = false;
  };
}
