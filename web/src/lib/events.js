// Server-sent events over fetch(): EventSource cannot send the Authorization header. Follows a
// stream (/api/v1/events or a job's log) and reconnects after a drop with Last-Event-ID, so the
// server replays what was missed.
import { authHeaders } from "./api.js";

// Parses "id:/event:/data:" blocks out of the text received so far; returns what is left over.
function parseBlocks(buffer, onBlock) {
  let end;
  while ((end = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    const event = { id: null, type: "message", data: "", retry: null };
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;  // a keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "id") event.id = value;
      else if (field === "event") event.type = value;
      else if (field === "data") data.push(value);
      else if (field === "retry") event.retry = Number(value);
    }
    event.data = data.join("\n");
    onBlock(event);
  }
  return buffer;
}

// Follows `url` until stop() is called. Options:
//   onEvent({id, type, data}) for each event (data parsed as JSON when it is JSON);
//   onOpen({resumed}) each time the stream is (re)connected; resumed is false when it started
//     without a Last-Event-ID, i.e. events before it may have been missed;
//   onState("live" | "reconnecting" | "ended", detail) for the UI's connection indicator;
//   lastEventId: where to start.
// The stream ends for good (no reconnection) when the server answers 4xx or onEvent calls stop.
export function followEvents(url, { onEvent, onOpen, onState = () => {}, lastEventId = null }) {
  let stopped = false;
  let controller = null;
  let retryMs = 2000;
  let lastId = lastEventId;

  async function connect() {
    let failures = 0;
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = authHeaders({ Accept: "text/event-stream" });
        if (lastId !== null) headers["Last-Event-ID"] = String(lastId);
        const response = await fetch(url, { headers, signal: controller.signal, cache: "no-store" });
        if (response.status >= 400 && response.status < 500) {
          onState("ended", `the server refused the stream (HTTP ${response.status})`);
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        failures = 0;
        onState("live");
        if (onOpen) onOpen({ resumed: lastId !== null });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        while (!stopped) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer = parseBlocks((buffer + value).replace(/\r\n?/g, "\n"), (event) => {
            if (event.retry) retryMs = event.retry;
            if (event.id !== null && event.id !== "") lastId = event.id;
            if (!event.data && event.type === "message") return;
            let data = event.data;
            try {
              data = JSON.parse(event.data);
            } catch {
              // plain text data
            }
            if (!stopped) onEvent({ id: event.id, type: event.type, data });
          });
        }
      } catch (error) {
        if (stopped) return;
        failures += 1;
      }
      if (stopped) return;
      onState("reconnecting");
      // 2 s (the server's retry), then longer while the server stays away, up to 15 s.
      const wait = Math.min(retryMs * Math.max(1, failures), 15000);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  connect();
  return {
    stop() {
      stopped = true;
      if (controller) controller.abort();
    },
    lastEventId: () => lastId,
  };
}
