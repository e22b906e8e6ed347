// graphql-js (npm `graphql`, the reference implementation) against a running trainyard server's
// /graphql: it builds a client schema from the server's introspection, checks that the server's
// printed schema (/graphql/schema.graphql) is what graphql-js prints from it, validates a set of
// real queries against it and runs them, and checks that documents graphql-js finds invalid are
// refused by the server with the same messages and locations.
//
// Usage: node graphql_js_check.mjs URL TOKEN SWEEP_ID JOB_NAME   (exit 0: every check held)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'npm', 'package.json'));
const {
  buildClientSchema, getIntrospectionQuery, printSchema, parse, validate, assertValidSchema,
} = require('graphql');

const [url, token, sweepId, jobName] = process.argv.slice(2);
let failures = 0;
function check(condition, what) {
  if (condition) {
    console.log(`ok: ${what}`);
  } else {
    failures += 1;
    console.log(`FAILED: ${what}`);
  }
}

async function post(query, variables = {}, operationName = null) {
  const answer = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables, operationName }),
  });
  return { status: answer.status, body: await answer.json() };
}

const introspection = await post(getIntrospectionQuery({
  descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true,
  inputValueDeprecation: true,
}));
check(introspection.status === 200 && !introspection.body.errors,
  `the introspection query answers without errors ${JSON.stringify(introspection.body.errors ?? '')}`);
const schema = buildClientSchema(introspection.body.data);
assertValidSchema(schema);
check(true, 'buildClientSchema builds a valid schema from the introspection');

const printed = await (await fetch(`${url}/graphql/schema.graphql`, {
  headers: { Authorization: `Bearer ${token}` },
})).text();
const expected = printSchema(schema) + '\n';
check(printed === expected, 'the server prints its schema as graphql-js prints it');
if (printed !== expected) {
  const a = printed.split('\n');
  const b = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    if (a[i] !== b[i]) {
      console.log(`  line ${i + 1}: server ${JSON.stringify(a[i])}\n  line ${i + 1}: graphql-js ${JSON.stringify(b[i])}`);
      break;
    }
  }
}

// Real queries, as a dashboard would send them.
const queries = [
  [`query Sweeps { sweeps { id name jobCount counts progress bestJob { name metric value } } }`, {}],
  [`query Sweep($id: ID!) {
      sweep(id: $id) {
        ...SweepFields
        jobs(first: 1) { edges { cursor node { name status } } pageInfo { hasNextPage endCursor } }
      }
    }
    fragment SweepFields on Sweep { id name spec stopRequested createdAt bestJob { job { name } } }`,
  { id: sweepId }],
  [`query Page($sweep: ID, $after: String, $status: JobStatusFilter) {
      jobs(sweep: $sweep, first: 1, after: $after, status: $status) {
        nodes { name status secondaryStatus queued exitCode }
        pageInfo { hasNextPage endCursor }
      }
    }`, { sweep: sweepId, status: 'Completed' }],
  [`query Job($name: ID!, $withHistory: Boolean = true) {
      job(name: $name) {
        name status hyperparameters metrics progress attempt durationSeconds
        transitions { status startTime endTime statusMessage }
        metricHistory(name: "eval_accuracy") @include(if: $withHistory) { name value step timestamp }
        sweep { id }
        ... on Job { __typename }
      }
      points: metrics(job: $name) { name value }
    }`, { name: jobName }],
  [`{ datasets { id name kind size sha256 contentType createdAt } __typename }`, {}],
  [`mutation Retry($sweep: ID!) { retryFailedJobs(sweep: $sweep) { name status } }`, { sweep: sweepId }],
];
for (const [query, variables] of queries) {
  const name = query.match(/(query|mutation) (\w+)/)?.[2] ?? 'anonymous';
  const errors = validate(schema, parse(query));
  check(errors.length === 0, `graphql-js validates ${name} ${errors.map((e) => e.message).join('; ')}`);
  const answer = await post(query, variables);
  check(answer.status === 200 && !answer.body.errors && answer.body.data,
    `the server runs ${name} ${JSON.stringify(answer.body.errors ?? '')}`);
}

// Invalid documents: the server says what graphql-js says, where it says it.
const lines = (locations) => locations?.map(({ line, column }) => ({ line, column }));
const invalid = [
  '{ sweeps { nope } }',
  '{ job { name } }',
  '{ jobs(first: "ten") { nodes { name } } }',
  '{ jobs(status: Done) { nodes { name } } }',
  '{ job(name: "x") }',
  '{ sweeps { id ...Missing } }',
  'query Q($n: Int) { jobs(first: $n) { nodes { name } } job(name: $n) { name } }',
  '{ sweeps { id } } fragment Unused on Sweep { id }',
  '{ sweeps @skip { id } }',
  '{ sweeps { id @unknown } }',
  '{ sweep(idd: "x") { id } }',
  '{ jobs(status: completed) { nodes { nam } } }',
  '{ swep { id } }',
  '{ sweeps { ... on Sweeps { id } } }',
  'mutation { stopJob(name: 1.5) { name } }',
  '{ sweeps { ...F } } fragment F on Swep { id }',
  '{ sweeps { ... on JobStatus { id } } }',
];
for (const query of invalid) {
  const expectedErrors = validate(schema, parse(query)).map((e) => ({
    message: e.message, locations: lines(e.locations),
  }));
  const answer = await post(query);
  const got = (answer.body.errors ?? []).map((e) => ({ message: e.message, locations: lines(e.locations) }));
  const same = JSON.stringify(got) === JSON.stringify(expectedErrors);
  check(expectedErrors.length > 0 && same && answer.body.data === undefined,
    `the server refuses ${JSON.stringify(query)} as graphql-js does` +
    (same ? '' : `\n  server:     ${JSON.stringify(got)}\n  graphql-js: ${JSON.stringify(expectedErrors)}`));
}

// A syntax error: graphql-js's message and location.
let syntax = null;
try { parse('{ sweeps { id }'); } catch (error) { syntax = { message: error.message, locations: lines(error.locations) }; }
const syntaxAnswer = await post('{ sweeps { id }');
check(JSON.stringify({ message: syntaxAnswer.body.errors?.[0]?.message,
  locations: lines(syntaxAnswer.body.errors?.[0]?.locations) }) === JSON.stringify(syntax),
`a syntax error reads as graphql-js's ${JSON.stringify(syntax)} / ${JSON.stringify(syntaxAnswer.body.errors)}`);

console.log(failures === 0 ? 'graphql-js: every check held' : `graphql-js: ${failures} checks failed`);
process.exit(failures === 0 ? 0 : 1);
