// Runs statements through the npm trino-client for the Go end-to-end tests
// (internal/e2e/jsclient_test.go). Input on stdin:
//   {"server": URL, "steps": [{"name", "user", "catalog"?, "schema"?,
//     "session"?: {k: v}, "headers"?: {k: v}, "queries": [SQL…],
//     "cancel"?: bool}]}
// Each step uses one client, so headers the server sets (prepared
// statements, session) carry over between its queries. Output on stdout:
//   {"name": [{"id", "columns", "rows", "checksum", "error"?: {errorName,
//     message}, "cancelled"?: bool}, …], …}
// checksum is the sum over rows of Σ (i+1)·row[i] over numeric cells.
import { Trino } from 'trino-client';

async function readStdin() {
  let s = '';
  for await (const chunk of process.stdin) s += chunk;
  return JSON.parse(s);
}

async function runQuery(trino, sql, cancel) {
  const out = { id: '', columns: 0, rows: 0, checksum: 0 };
  const seen = (page) => {
    if (page.id) out.id = page.id;
    if (page.columns) out.columns = page.columns.length;
    if (page.error) {
      out.error = { errorName: page.error.errorName, message: page.error.message };
    }
    for (const row of page.data ?? []) {
      out.rows++;
      row.forEach((v, i) => { if (typeof v === 'number') out.checksum += (i + 1) * v; });
    }
  };
  const iter = await trino.query(sql);
  if (cancel) {
    // The client yields nothing until the first data arrives, so the id
    // comes from the first reply, which the iterator keeps; then cancel as
    // the client's API does: DELETE /v1/query/{id}.
    const first = iter.iter.queryResult;
    seen(first);
    await trino.cancel(first.id);
    out.cancelled = true;
    return out;
  }
  // The iterator hands a reply that ends the query (a failure on the first
  // reply, say) only as the value of its last, done step.
  let last;
  for (;;) {
    const { value, done } = await iter.next();
    if (value && value !== last) seen(value);
    last = value;
    if (done) break;
  }
  return out;
}

const input = await readStdin();
const results = {};
for (const step of input.steps) {
  const trino = Trino.create({
    server: input.server,
    source: 'meridian-e2e-js',
    catalog: step.catalog ?? 'iceberg',
    schema: step.schema ?? 'eu',
    session: step.session ?? {},
    extraHeaders: { 'X-Trino-User': step.user, ...(step.headers ?? {}) },
  });
  results[step.name] = [];
  for (const sql of step.queries) {
    try {
      results[step.name].push(await runQuery(trino, sql, step.cancel));
    } catch (e) {
      results[step.name].push({ error: { errorName: 'CLIENT', message: String(e && e.message || e) } });
    }
  }
}
process.stdout.write(JSON.stringify(results));
