// The official supabase-js client doing its ordinary auth, PostgREST, RPC and storage calls
// against the local server. Run by tests/backend/test_supabase_js.py:
//   node driver.mjs <api url> <anon key>
// It prints one JSON line: {"passed": [check names], "failed": {check name: message}}.

import { createClient } from '@supabase/supabase-js'

const [url, anonKey] = process.argv.slice(2)
const passed = []
const failed = {}

function expect(condition, message) {
  if (!condition) throw new Error(message)
}

function ok(result, what) {
  if (result.error) throw new Error(`${what}: ${result.error.message} (${result.error.status ?? ''} ${result.error.code ?? ''})`)
  return result.data
}

async function check(name, fn) {
  try {
    await fn()
    passed.push(name)
  } catch (err) {
    failed[name] = String(err && err.stack ? err.stack : err)
  }
}

// Realtime is not served by the local server and not used here; Node 20 has no WebSocket of
// its own, and supabase-js wants one when the client is made, so it gets a stand-in.
class NoWebSocket {
  constructor() { throw new Error('realtime is not served by the local backend') }
}
const options = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  realtime: { transport: globalThis.WebSocket ?? NoWebSocket },
}
const supabase = createClient(url, anonKey, options)
const email = `js-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`
const password = 's3cret-pass'
let org = null

await check('auth.signUp', async () => {
  const data = ok(await supabase.auth.signUp({ email, password, options: { data: { display_name: 'JS Tester' } } }), 'signUp')
  expect(data.user.email === email, 'signUp returns the user')
  expect(data.session && data.session.access_token, 'signUp returns a session (autoconfirm)')
  expect(data.user.user_metadata.display_name === 'JS Tester', 'user metadata kept')
})

await check('auth.signInWithPassword', async () => {
  const wrong = await supabase.auth.signInWithPassword({ email, password: 'wrong-password' })
  expect(wrong.error && wrong.error.status === 400 && wrong.error.code === 'invalid_credentials', `wrong password: ${JSON.stringify(wrong.error)}`)
  const data = ok(await supabase.auth.signInWithPassword({ email, password }), 'signIn')
  expect(data.session.expires_in === 3600, 'expires_in')
})

await check('auth.getUser', async () => {
  const data = ok(await supabase.auth.getUser(), 'getUser')
  expect(data.user.email === email, 'getUser returns the signed-in user')
})

await check('auth.refreshSession', async () => {
  const before = (await supabase.auth.getSession()).data.session
  const data = ok(await supabase.auth.refreshSession(), 'refreshSession')
  expect(data.session.refresh_token !== before.refresh_token, 'a new refresh token')
})

await check('auth.updateUser', async () => {
  const data = ok(await supabase.auth.updateUser({ data: { display_name: 'Renamed', theme: 'dark' } }), 'updateUser data')
  expect(data.user.user_metadata.display_name === 'Renamed' && data.user.user_metadata.theme === 'dark', 'metadata merged')
  const cleared = ok(await supabase.auth.updateUser({ data: { theme: null } }), 'updateUser remove key')
  expect(!('theme' in cleared.user.user_metadata) && cleared.user.user_metadata.display_name === 'Renamed', 'null removes a key')
  ok(await supabase.auth.updateUser({ password: 'an0ther-pass' }), 'updateUser password')
  const weak = await supabase.auth.updateUser({ password: '123' })
  expect(weak.error && weak.error.code === 'weak_password', `weak password refused: ${JSON.stringify(weak.error)}`)
  const other = createClient(url, anonKey, options)
  ok(await other.auth.signInWithPassword({ email, password: 'an0ther-pass' }), 'sign in with the new password')
})

await check('postgrest.select.single', async () => {
  const data = ok(await supabase.from('org_members').select('org_id').eq('role', 'owner').single(), 'select org')
  org = data.org_id
  expect(org, 'an organisation')
})

await check('postgrest.table calls', async () => {
  // three projects: what the free plan allows (the rpc check below makes one after one is deleted)
  const rows = [0, 1, 2].map((i) => ({ org_id: org, name: `part ${i}`, status: i === 1 ? 'draft' : 'approved',
    description: i < 2 ? 'lamp' : 'chair' }))
  const inserted = ok(await supabase.from('design_studio_projects').insert(rows).select(), 'insert')
  expect(inserted.length === 3, 'three rows inserted')
  const names = async (query) => ok(await query, 'select').map((r) => r.name).sort()
  const table = () => supabase.from('design_studio_projects')
  expect(JSON.stringify(await names(table().select('name').eq('status', 'approved'))) === '["part 0","part 2"]', 'eq')
  expect(JSON.stringify(await names(table().select('name').neq('status', 'approved'))) === '["part 1"]', 'neq')
  expect(JSON.stringify(await names(table().select('name').in('name', ['part 1', 'nope']))) === '["part 1"]', 'in')
  expect(JSON.stringify(await names(table().select('name').ilike('description', '%CHAIR%'))) === '["part 2"]', 'ilike')
  expect(JSON.stringify(await names(table().select('name').like('description', 'la*'))) === '["part 0","part 1"]', 'like')
  expect(JSON.stringify(await names(table().select('name').gt('name', 'part 0').lt('name', 'part 2'))) === '["part 1"]', 'gt lt')
  expect(JSON.stringify(await names(table().select('name').is('template_category', null).gte('name', 'part 2'))) === '["part 2"]', 'is gte')
  const page = await table().select('name', { count: 'exact' }).order('name', { ascending: false }).range(1, 2)
  ok(page, 'range')
  expect(page.count === 3 && page.data.map((r) => r.name).join() === 'part 1,part 0', `range and count: ${JSON.stringify(page)}`)
  const head = await table().select('*', { count: 'exact', head: true })
  expect(head.error === null && head.count === 3, `head count: ${JSON.stringify(head)}`)
  const one = ok(await table().select('id, name').eq('name', 'part 0').single(), 'single')
  const none = ok(await table().select('id').eq('name', 'missing').maybeSingle(), 'maybeSingle')
  expect(none === null, 'maybeSingle of nothing is null')
  const several = await table().select('id').single()
  expect(several.error && several.error.code === 'PGRST116', `single of several rows: ${JSON.stringify(several.error)}`)
  const updated = ok(await table().update({ status: 'archived' }).eq('id', one.id).select(), 'update')
  expect(updated[0].status === 'archived', 'updated')
  const upserted = ok(await table().upsert({ id: one.id, org_id: org, name: 'part 0 renamed' }, { onConflict: 'id' }).select(), 'upsert')
  expect(upserted[0].name === 'part 0 renamed' && upserted[0].status === 'archived', 'upsert merges')
  const deleted = ok(await table().delete().eq('id', one.id).select(), 'delete')
  expect(deleted.length === 1 && deleted[0].id === one.id, 'deleted')
  const offset = await table().select('name').order('name').range(1, 1)
  expect(ok(offset, 'offset')[0].name === 'part 2', `limit and offset: ${JSON.stringify(offset.data)}`)
  const bad = await table().insert({ org_id: org, name: 'x', no_such_column: 1 })
  expect(bad.error && bad.error.code === 'PGRST204', `unknown column: ${JSON.stringify(bad.error)}`)
  const missing = await supabase.from('no_such_table').select('*')
  expect(missing.error && missing.error.code === 'PGRST205', `unknown table: ${JSON.stringify(missing.error)}`)
})

await check('rpc', async () => {
  const balance = ok(await supabase.rpc('consume_credits', { org_id: org, amount: 30, reason: 'render' }), 'consume_credits')
  expect(balance === 70, `balance after spending 30: ${balance}`)
  const info = ok(await supabase.rpc('get_credit_balance', { org_id: org }), 'get_credit_balance')
  expect(info.monthly_remaining === 70, 'monthly remaining')
  const short = await supabase.rpc('consume_credits', { org_id: org, amount: 71, reason: 'too much' })
  expect(short.error && short.error.code === 'PT402' && short.status === 402, `402 on a short balance: ${JSON.stringify(short)}`)
  const project = ok(await supabase.from('design_studio_projects').insert({ org_id: org, name: 'versioned' }).select().single(), 'project')
  const version = ok(await supabase.rpc('create_version', { project_id: project.id, snapshot: { n: 1 } }), 'create_version')
  expect(version.version_number === 1, 'version 1')
  const results = ok(await supabase.rpc('apply_mutations', { batch: [
    { id: crypto.randomUUID(), entity: 'annotation', op: 'insert',
      payload: { id: crypto.randomUUID(), project_id: project.id, content: 'from supabase-js', author_id: (await supabase.auth.getUser()).data.user.id } },
    { id: crypto.randomUUID(), entity: 'spaceship', op: 'insert', payload: { id: 'x' } }] }), 'apply_mutations')
  expect(results.map((r) => r.status).join() === 'applied,rejected', `apply_mutations: ${JSON.stringify(results)}`)
})

await check('storage.buckets', async () => {
  const buckets = ok(await supabase.storage.listBuckets(), 'listBuckets')
  expect(buckets.some((b) => b.id === 'assets') && buckets.some((b) => b.id === 'thumbnails'), 'both buckets listed')
  const thumbnails = ok(await supabase.storage.getBucket('thumbnails'), 'getBucket')
  expect(thumbnails.file_size_limit === 5242880 && thumbnails.allowed_mime_types.includes('image/png'), 'bucket limits')
  const missing = await supabase.storage.getBucket('no-such-bucket')
  expect(missing.error && missing.data === null, 'a missing bucket is an error')
})

await check('storage.objects', async () => {
  const bucket = supabase.storage.from('assets')
  const glb = new Uint8Array([0x67, 0x6c, 0x54, 0x46, 2, 0, 0, 0])
  // a Blob: sent as multipart with a part named ""
  const blob = ok(await bucket.upload(`${org}/blob.glb`, new Blob([glb], { type: 'text/html' })), 'upload Blob')
  expect(blob.path === `${org}/blob.glb` && blob.fullPath === `assets/${org}/blob.glb`, `upload answer: ${JSON.stringify(blob)}`)
  const file = ok(await bucket.upload(`${org}/file.stl`, new File(['solid a\nendsolid a\n'], 'part.stl', { type: 'model/stl' })), 'upload File')
  expect(file.path === `${org}/file.stl`, 'File uploaded')
  ok(await bucket.upload(`${org}/raw.glb`, glb, { contentType: 'model/gltf-binary' }), 'upload bytes')
  const again = await bucket.upload(`${org}/raw.glb`, glb, { contentType: 'model/gltf-binary' })
  expect(again.error, 'a second upload without upsert is refused')
  ok(await bucket.upload(`${org}/raw.glb`, new Uint8Array([...glb, 9]), { contentType: 'model/gltf-binary', upsert: true }), 'upsert')
  const downloaded = ok(await bucket.download(`${org}/blob.glb`), 'download')
  expect(downloaded.type === 'model/gltf-binary', `served by its extension's type, not the client's: ${downloaded.type}`)
  expect(Buffer.from(await downloaded.arrayBuffer()).equals(Buffer.from(glb)), 'the same bytes')
  const upserted = ok(await bucket.download(`${org}/raw.glb`), 'download upserted')
  expect(upserted.size === glb.length + 1, 'the upserted bytes')
  expect(ok(await bucket.exists(`${org}/blob.glb`), 'exists') === true, 'exists')
  const listed = ok(await bucket.list(org), 'list').map((o) => o.name).sort()
  expect(listed.join() === 'blob.glb,file.stl,raw.glb', `list: ${listed}`)

  const signed = ok(await bucket.createSignedUrl(`${org}/file.stl`, 60), 'createSignedUrl')
  const fetched = await fetch(signed.signedUrl)
  expect(fetched.status === 200 && (await fetched.text()) === 'solid a\nendsolid a\n', 'a signed URL works without a token')
  const forever = await bucket.createSignedUrl(`${org}/file.stl`, 1e9)
  expect(forever.error && forever.error.status === 400, `a 31-year signed URL is refused: ${JSON.stringify(forever.error)}`)
  const many = ok(await bucket.createSignedUrls([`${org}/file.stl`, `${org}/missing.stl`], 60), 'createSignedUrls')
  expect(many.length === 2 && many[0].signedUrl && many[1].signedUrl === null && many[1].error, `createSignedUrls: ${JSON.stringify(many)}`)
  expect((await fetch(many[0].signedUrl)).status === 200, 'the first signed URL works')

  const upload = ok(await bucket.createSignedUploadUrl(`${org}/signed.glb`), 'createSignedUploadUrl')
  const viaUrl = ok(await bucket.uploadToSignedUrl(`${org}/signed.glb`, upload.token, new Blob([glb])), 'uploadToSignedUrl')
  expect(viaUrl.fullPath === `assets/${org}/signed.glb`, `uploadToSignedUrl: ${JSON.stringify(viaUrl)}`)
  expect((await (ok(await bucket.download(`${org}/signed.glb`), 'download signed upload')).arrayBuffer()).byteLength === glb.length, 'signed upload stored')

  const copied = ok(await bucket.copy(`${org}/file.stl`, `${org}/copy.stl`), 'copy')
  expect(copied.path === `assets/${org}/copy.stl`, `copy: ${JSON.stringify(copied)}`)
  ok(await bucket.move(`${org}/copy.stl`, `${org}/moved/part.stl`), 'move')
  expect((await (ok(await bucket.download(`${org}/moved/part.stl`), 'download moved')).text()) === 'solid a\nendsolid a\n', 'moved bytes')
  expect((await bucket.download(`${org}/copy.stl`)).error, 'nothing left where it moved from')
  expect((await (ok(await bucket.download(`${org}/file.stl`), 'download original')).text()) === 'solid a\nendsolid a\n', 'the original is kept')

  const removed = ok(await bucket.remove([`${org}/blob.glb`, `${org}/moved/part.stl`]), 'remove')
  expect(removed.length === 2, 'two removed')
  expect((await bucket.download(`${org}/blob.glb`)).error, 'removed object is gone')
})

await check('storage.refusals', async () => {
  const thumbnails = supabase.storage.from('thumbnails')
  const text = await thumbnails.upload(`${org}/notes.txt`, new Blob(['hello'], { type: 'image/png' }))
  expect(text.error && text.error.status === 415, `a .txt is not an image whatever it claims: ${JSON.stringify(text.error)}`)
  const big = await thumbnails.upload(`${org}/big.png`, new Blob([new Uint8Array(6 * 1024 * 1024)], { type: 'image/png' }))
  expect(big.error && big.error.status === 413, `over the bucket's 5 MB: ${JSON.stringify(big.error)}`)
  const theirs = await thumbnails.upload(`${crypto.randomUUID()}/x.png`, new Blob([new Uint8Array(8)], { type: 'image/png' }))
  expect(theirs.error && theirs.error.status === 403, `another organisation's folder: ${JSON.stringify(theirs.error)}`)
})

await check('auth.signOut', async () => {
  const token = (await supabase.auth.getSession()).data.session.access_token
  const { error } = await supabase.auth.signOut()
  expect(!error, `signOut: ${error && error.message}`)
  const after = await fetch(`${url}/rest/v1/org_members`, { headers: { apikey: anonKey, Authorization: `Bearer ${token}` } })
  expect(after.status === 401, `a signed-out session's token reads nothing: ${after.status}`)
})

console.log(JSON.stringify({ passed, failed }))
