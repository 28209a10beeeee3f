// An app written against Nango's official Node client, pointed at `harness serve` (tests/test_serve_node.py).
//
// 1. Starts a webhook receiver on 127.0.0.1 and prints `RECEIVER <url>` (the test starts harness serve with
//    --webhook-url set to it), then reads harness serve's URL from stdin.
// 2. Drives the server through the SDK only, and verifies the webhooks with the SDK's own check.
// 3. Prints one JSON document with what it saw; any failed expectation exits 1 with the reason.
import http from 'node:http';
import readline from 'node:readline';
import { Nango } from '@nangohq/node';

const KEY = process.env.SERVE_KEY;
const received = [];
const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
        res.writeHead(200, { 'content-length': '0' });
        res.end();
    });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
console.log(`RECEIVER http://127.0.0.1:${receiver.address().port}/hooks`);

const rl = readline.createInterface({ input: process.stdin });
const host = await new Promise((resolve) => rl.once('line', (line) => resolve(line.trim())));
rl.close();

function check(ok, what) {
    if (!ok) {
        console.error(`expectation failed: ${what}`);
        process.exit(1);
    }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 20000) {
    const end = Date.now() + ms;
    for (;;) {
        const value = await fn();
        if (value) return value;
        check(Date.now() < end, `timed out waiting for ${what}`);
        await sleep(25);
    }
}

const nango = new Nango({ host, secretKey: KEY });
nango.http.defaults.timeout = 20000;
const out = {};

// Syncs: trigger, then wait for a successful run that finished after the trigger.
const before = Date.now();
await nango.triggerSync('github', ['issues'], 'demo');
const status = await until('the issues sync', async () => {
    const { syncs } = await nango.syncStatus('github', ['issues'], 'demo');
    const s = syncs[0];
    return s.latestExecutionStatus === 'SUCCESS' && s.finishedAt && Date.parse(s.finishedAt) >= before - 1000 ? s : null;
});
out.status = status;

// Records: all at once, then 5 at a time.
const all = await nango.listRecords({ providerConfigKey: 'github', connectionId: 'demo', model: 'Issue' });
out.records = all.records.map((r) => r.id);
out.record_sample = all.records[0];
out.all_next_cursor = all.next_cursor;
const pages = [];
let cursor;
do {
    const page = await nango.listRecords({ providerConfigKey: 'github', connectionId: 'demo', model: 'Issue', limit: 5, cursor });
    pages.push(page.records.map((r) => r.id));
    cursor = page.next_cursor;
} while (cursor);
out.pages = pages;
const since = await nango.listRecords({
    providerConfigKey: 'github', connectionId: 'demo', model: 'Issue',
    modifiedAfter: all.records[0]._nango_metadata.last_modified_at, filter: 'added'
});
out.modified_after_count = since.records.length;

// Actions: the recorded input gets the recorded output; async too, with its webhook.
const input = { title: 'Found a bug', body: 'It breaks on Tuesdays.', labels: ['bug'] };
out.action = await nango.triggerAction('github', 'demo', 'create-issue', input);
const job = await nango.triggerActionAsync('github', 'demo', 'create-issue', input);
out.async_job = job;
out.async_result = await until('the async action', async () => {
    try {
        return { value: await nango.getAsyncActionResult(job) };
    } catch (err) {
        check(err.response && err.response.status === 404, `async result: ${err.message}`);
        return null;
    }
});
try {
    await nango.triggerAction('github', 'demo', 'create-issue', { title: '' });
    check(false, 'an invalid input was accepted');
} catch (err) {
    out.invalid_input = { status: err.response.status, data: err.response.data };
}

// Connections and metadata.
out.connection = await nango.getConnection('github', 'demo');
out.connections = (await nango.listConnections()).connections.map((c) => c.connection_id);
await nango.setMetadata('github', 'demo', { owner: 'octocat', repo: 'hello-world', team: 'a' });
out.metadata_after_set = await nango.getMetadata('github', 'demo');
await nango.updateMetadata('github', 'demo', { team: 'b' });
out.metadata_after_update = await nango.getMetadata('github', 'demo');
out.token = await nango.getToken('github', 'demo');
out.config = await nango.getScriptsConfig();

// A wrong key is refused.
try {
    await new Nango({ host, secretKey: 'not-the-key' }).getConnection('github', 'demo');
    check(false, 'a wrong key was accepted');
} catch (err) {
    out.wrong_key = { status: err.response.status, data: err.response.data };
}
try {
    await nango.getConnection('github', 'nobody');
    check(false, 'an unknown connection was found');
} catch (err) {
    out.unknown_connection = { status: err.response.status, data: err.response.data };
}

// Webhooks: the sync webhook and the async action webhook, verified as the app verifies them.
await until('the webhooks', async () =>
    received.some((w) => JSON.parse(w.body).type === 'sync') && received.some((w) => JSON.parse(w.body).type === 'async_action'));
out.webhooks = received.map((w) => ({
    payload: JSON.parse(w.body),
    verified: nango.verifyIncomingWebhookRequest(w.body, w.headers),
    verified_with_wrong_key: new Nango({ host, secretKey: 'not-the-key' }).verifyIncomingWebhookRequest(w.body, w.headers)
}));
receiver.close();
console.log(JSON.stringify(out));
