// The npm `graphql-ws` client (the graphql-transport-ws protocol of Apollo Client, urql and
// Relay) against a running trainyard server's /graphql over WebSocket, with `ws` as its socket:
// it follows a sweep with sweepUpdates (from its first event) until every one of its jobs has
// ended, runs a query over the socket, sends a document the server must refuse, and with a plain
// `ws` socket checks the protocol's close codes (a wrong token, no connection_init, a subscribe
// before the acknowledgement, an id used twice). What it saw is printed as one line,
// "RESULT {json}", for the test to compare with the REST API.
//
// Usage: node graphql_ws_check.mjs URL TOKEN SWEEP_ID JOB_COUNT
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'npm', 'package.json'));
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');

const [httpUrl, token, sweepId, jobCountText] = process.argv.slice(2);
const url = httpUrl.replace(/^http/, 'ws') + '/graphql';
const jobCount = Number(jobCountText);
const terminal = new Set(['Completed', 'Failed', 'Stopped']);

function client(connectionParams) {
  return createClient({
    url, webSocketImpl: WebSocket, connectionParams, lazy: true, retryAttempts: 0,
  });
}

// The messages of one subscribe until it completes or fails: { next: [...], error, complete }.
function run(theClient, payload, enough = () => false) {
  return new Promise((resolve) => {
    const seen = { next: [], error: null, complete: false };
    let unsubscribe = () => {};
    unsubscribe = theClient.subscribe(payload, {
      next: (value) => {
        seen.next.push(value);
        if (enough(seen.next)) {
          unsubscribe();
          resolve(seen);
        }
      },
      error: (error) => {
        seen.error = error instanceof Error ? { message: error.message }
          : error && error.code !== undefined ? { code: error.code, reason: error.reason }
            : error;
        resolve(seen);
      },
      complete: () => {
        seen.complete = true;
        resolve(seen);
      },
    });
  });
}

// A plain socket: sends `messages` (one after each answer, the first at once; an array is sent
// as several messages at once), and returns the messages received and the close code.
function raw(messages, { waitMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    const received = [];
    const queue = [...messages];
    const timer = setTimeout(() => { socket.terminate(); resolve({ received, code: null }); }, waitMs);
    const sendNext = () => {
      if (!queue.length) return;
      const next = queue.shift();
      for (const message of Array.isArray(next) ? next : [next]) socket.send(JSON.stringify(message));
    };
    socket.on('open', sendNext);
    socket.on('message', (data) => {
      received.push(JSON.parse(data.toString()));
      sendNext();
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ received, code, reason: reason.toString() });
    });
    socket.on('error', () => {});
  });
}

const result = {};
const good = client({ authorization: `Bearer ${token}` });

// Every event of the sweep, until each job has ended (and a moment more for anything after).
const jobsEnded = new Set();
let settled = null;
const updates = await new Promise((resolve) => {
  const seen = [];
  const unsubscribe = good.subscribe({
    query: `subscription Follow($sweep: ID!) {
      sweepUpdates(sweep: $sweep, after: 0) {
        id type jobName status secondaryStatus progress job { name sweepId }
      } }`,
    variables: { sweep: sweepId },
  }, {
    next: (value) => {
      seen.push(value);
      const update = value.data && value.data.sweepUpdates;
      if (update && update.type === 'job.status' && terminal.has(update.status)) {
        jobsEnded.add(update.jobName);
      }
      if (jobsEnded.size >= jobCount && !settled) {
        settled = setTimeout(() => { unsubscribe(); resolve(seen); }, 1000);
      }
    },
    error: (error) => { seen.push({ error: String(error && (error.message || error.code)) }); resolve(seen); },
    complete: () => resolve(seen),
  });
});
result.statuses = {};
result.progress = {};
result.errors = [];
result.ids = [];
for (const value of updates) {
  if (value.error || value.errors) { result.errors.push(value.error || value.errors); continue; }
  const update = value.data.sweepUpdates;
  result.ids.push(update.id);
  if (update.job && update.job.sweepId !== sweepId) result.errors.push(`job of another sweep: ${update.jobName}`);
  if (update.type === 'job.status') {
    (result.statuses[update.jobName] ??= []).push([update.status, update.secondaryStatus]);
  }
  if (update.type === 'job.progress') result.progress[update.jobName] = update.progress;
}

// A query over the socket: one next, then complete.
result.query = await run(good, { query: `query { sweep(id: "${sweepId}") { id jobCount } }` });
// Documents the server refuses: an error message with the spec's errors.
result.badField = await run(good, { query: 'subscription { nope { id } }' });
result.twoFields = await run(good, {
  query: 'subscription { jobLog(job: "x") { line } jobUpdates(job: "x") { id } }',
});
result.unknownJob = await run(good, { query: 'subscription { jobUpdates(job: "no-such-job") { id } }' });
// A job's log, which has ended: every line, then complete.
const firstJob = Object.keys(result.statuses).sort()[0];
result.logJob = firstJob;
result.log = await run(good, { query: `subscription { jobLog(job: "${firstJob}") { id line } }` });
await good.dispose();

// A wrong token: closed with 4403 Forbidden.
const wrong = client({ authorization: 'Bearer not-the-token' });
result.wrongToken = await run(wrong, { query: '{ __typename }' });
await wrong.dispose();
const missing = client({});
result.missingToken = await run(missing, { query: '{ __typename }' });
await missing.dispose();

// The protocol's other close codes, on a plain socket.
const init = { type: 'connection_init', payload: { token } };
const follow = { type: 'subscribe', id: 'a', payload: { query: `subscription { sweepUpdates(sweep: "${sweepId}") { id } }` } };
const [noInit, early, twice, tooMany, garbage, ping] = await Promise.all([
  raw([]),
  raw([follow]),
  raw([init, [follow, follow]]),
  raw([init, init]),
  raw([{ hello: 1 }]),
  raw([init, { type: 'ping' }], { waitMs: 1000 }),
]);
result.close = {
  noInit: noInit.code, early: early.code, twice: twice.code, tooMany: tooMany.code,
  garbage: garbage.code,
};
result.ping = ping.received;
console.log('RESULT ' + JSON.stringify(result));
